// Package sandbox is an in-memory ERPNext that behaves like Frappe v15 wherever
// OTP touches it, for development, tests, demos and benchmarks.
package sandbox
