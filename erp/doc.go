// Package erp is OTP's client for the ERPNext (Frappe v15) REST API: typed
// reads and writes, error types, retries, a circuit breaker and timeouts.
package erp
