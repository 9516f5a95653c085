package main

import (
	"fmt"
	"strings"

	"github.com/erpnext-otp/otp/server"
)

// banner prints where everything is.
func (m *Main) banner() {
	w := m.Out
	fmt.Fprintf(w, "OTP %s is running (%s).\n", m.Version, rolesName(m.Roles))
	if why := m.erpWait.pending(); why != "" {
		fmt.Fprintf(w, "  ERPNext:    %s: %s\n              (retrying; the log shows each attempt; /ready answers 503 until ERPNext answers)\n", m.ERP.BaseURL(), why)
	}
	if m.HTTPURL != "" {
		fmt.Fprintf(w, "  OTP:        %s   (health: %s/health, metrics: %s/metrics)\n", m.HTTPURL, m.HTTPURL, m.HTTPURL)
		if m.server != nil && m.server.DashboardEnabled() {
			creds := "no password: set OTP_DASHBOARD_USER and OTP_DASHBOARD_PASSWORD"
			if m.Config.DashboardUser != "" {
				creds = "user " + m.Config.DashboardUser + ", password from OTP_DASHBOARD_PASSWORD"
			}
			fmt.Fprintf(w, "  Dashboard:  %s%s/   (%s)\n", m.HTTPURL, server.DashboardPath, creds)
		}
	}
	if m.WorkerURL != "" {
		fmt.Fprintf(w, "  Worker:     %s   (health: %s/health, metrics: %s/metrics)\n", m.WorkerURL, m.WorkerURL, m.WorkerURL)
	}
	if m.miniredis != nil {
		fmt.Fprintf(w, "  Redis:      embedded miniredis at %s (REDIS_URL unset)\n", m.miniredis.Addr())
	}
	if m.Sandbox != nil {
		fmt.Fprintf(w, "  Sandbox:    %s   (ERPNext stand-in, %s)\n", m.SandboxURL, m.Sandbox.AuthHeader())
		if m.HTTPURL != "" && m.Roles&roleWork != 0 {
			fmt.Fprintf(w, "\nSave a demo Sales Order in the sandbox and see the promise OTP writes back:\n\n  %s\n", demoCurl(m.SandboxURL, demoOrder(m.Sandbox)))
		}
	}
	if line := exportLine(m.HTTPURL, m.SandboxURL); line != "" {
		fmt.Fprintf(w, "\nFor the curl examples in README.md and docs/, in another shell:\n\n  %s\n", line)
	}
	fmt.Fprintln(w, "\nStop with Ctrl-C.")
}

// exportLine sets the shell variables the documentation's curl examples
// use, $OTP and $SANDBOX, to where this process answers: pasted, it makes
// every example work whatever OTP_HTTP_ADDR and OTP_SANDBOX_ADDR say.
func exportLine(otpURL, sandboxURL string) string {
	var vars []string
	if otpURL != "" {
		vars = append(vars, "OTP="+otpURL)
	}
	if sandboxURL != "" {
		vars = append(vars, "SANDBOX="+sandboxURL)
	}
	if len(vars) == 0 {
		return ""
	}
	return "export " + strings.Join(vars, " ")
}
