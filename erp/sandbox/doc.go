// Package sandbox is an in-memory ERPNext that behaves like Frappe v15 wherever
// OTP touches it, for development, tests, demos and benchmarks.
//
// A *Sandbox is an http.Handler serving Frappe's v1 REST API (/api/resource,
// /api/method and their /api/v1 aliases) with token or Basic auth for any
// number of users (the API user's token, and WithUser for others), and it
// sends webhooks the way Frappe v15 does (after commit, deduplicated, JSON
// bodies byte for byte as Python's json.dumps, HMAC signature, 3 attempts).
// The same operations are available in process (Insert, Get, Update,
// Submit, Cancel, Delete, SaveAs, SetStatus, List) and run exactly the same
// code. It imports only the standard library; its expression language,
// Jinja renderer and Python-style JSON are its internal packages pyexpr,
// jinja and pyjson.
//
//	s := sandbox.New(sandbox.WithDemoData())
//	defer s.Close()
//	srv := httptest.NewServer(s)
//	client, err := erp.New(srv.URL, sandbox.DefaultAPIKey, sandbox.DefaultAPISecret)
//
// # Demo data (WithDemoData)
//
// Dated from the clock's today, loaded through the normal save path (one
// transaction per document, so every Bin is the result of real bookkeeping;
// BenchmarkDemoData times it):
//
//   - Company DemoCompany (abbr "WH", default_holiday_list DemoHolidayList).
//   - Holiday List covering this year and next: every Saturday and Sunday as a
//     row with weekly_off=1, plus New Year, Labour Day, 14 July, 15 August,
//     25 and 26 December when they fall on a weekday.
//   - Warehouses: DemoAllWarehouses (group) → DemoStores, DemoStoresEast,
//     DemoFinishedGoods, DemoTransit (warehouse_type Transit), DemoWIP.
//   - Customers DemoCustomer ("Café Dupont"), DemoCustomer2, DemoCustomer3;
//     suppliers DemoSupplier, DemoSupplier2.
//   - Items SKU-001…SKU-050 (stock UOM Nos): SKU-001…030 in stock in Stores
//     with lead times 0–14 days; SKU-031…040 without stock (lead time 0, 5,
//     10 or 21); SKU-041…045 in Stores East / Finished Goods; SKU-046/047
//     non-stock services; SKU-048 disabled; SKU-049 also in Box of 12;
//     SKU-050 contended (20 on hand, 55 on open orders, 40 on a PO).
//   - One opening Material Receipt 30 days ago; submitted Purchase Orders open,
//     overdue, far out, with only schedule_date, in Boxes, and partly received
//     through a Purchase Receipt; one draft PO.
//   - The sales person DemoSalesUser (Sales User), with the API token
//     DemoSalesKey:DemoSalesSecret: a person whose saves OTP promises.
//   - Sales Orders competing for SKU-050, one past due, one with three lines
//     (Box UOM and a service), two drafts, one Closed, one On Hold and one
//     fully delivered through a Delivery Note (status "To Bill").
//
// The names of those transactions depend on the clock's year; Demo returns
// them. README.md says what is faithful to Frappe and what is simplified.
package sandbox
