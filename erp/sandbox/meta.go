package sandbox

import (
	"strings"
)

// Field types that hold no value (layout only) and field types by storage.
var (
	noValueTypes = map[string]bool{"Section Break": true, "Column Break": true, "Tab Break": true,
		"HTML": true, "Button": true, "Image": true, "Fold": true, "Heading": true, "Table": true, "Table MultiSelect": true}
	floatTypes = map[string]bool{"Float": true, "Currency": true, "Percent": true}
	intTypes   = map[string]bool{"Int": true, "Check": true, "Rating": false}
)

// field is one DocField (or Custom Field) of a doctype's meta.
type field struct {
	Name          string
	Label         string
	Type          string
	Options       string
	Default       string
	Reqd          bool
	AllowOnSubmit bool
	ReadOnly      bool
	NoCopy        bool
	Custom        bool
}

func (f *field) isTable() bool { return f.Type == "Table" || f.Type == "Table MultiSelect" }
func (f *field) isFloat() bool { return floatTypes[f.Type] }
func (f *field) isInt() bool   { return intTypes[f.Type] }
func (f *field) isDate() bool  { return f.Type == "Date" }
func (f *field) hasColumn() bool {
	return !noValueTypes[f.Type]
}

// docPerm is one DocPerm row: what a role may do on a doctype.
type docPerm struct {
	Role                                        string
	Read, Write, Create, Submit, Cancel, Delete bool
}

// meta is a DocType: its fields (standard ones merged with custom fields),
// naming rule and permissions.
type meta struct {
	Name        string
	IsTable     bool
	Submittable bool
	// Autoname: "hash", "field:<fieldname>", "naming_series:", "prompt" or
	// "controller" (the doctype's controller names it).
	Autoname string
	Series   string // default naming series for naming_series:
	Fields   []*field
	Perms    []docPerm
	// StatusField is set for doctypes whose status the controller computes.
	SortField string
}

func (m *meta) field(name string) *field {
	for _, f := range m.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func (m *meta) tableFields() []*field {
	var out []*field
	for _, f := range m.Fields {
		if f.isTable() {
			out = append(out, f)
		}
	}
	return out
}

// columns are the meta fields that hold a value (not tables, not layout).
func (m *meta) columns() []*field {
	var out []*field
	for _, f := range m.Fields {
		if f.hasColumn() {
			out = append(out, f)
		}
	}
	return out
}

// clone copies a meta so custom fields can be added per sandbox.
func (m *meta) clone() *meta {
	c := *m
	c.Fields = make([]*field, len(m.Fields))
	for i, f := range m.Fields {
		ff := *f
		c.Fields[i] = &ff
	}
	c.Perms = append([]docPerm(nil), m.Perms...)
	return &c
}

// Standard columns every document has (frappe.model.default_fields) and the
// extra ones every child row has (child_table_fields).
var (
	defaultFields    = []string{"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"}
	childTableFields = []string{"parent", "parentfield", "parenttype"}
)

func isDefaultField(name string) bool {
	for _, f := range defaultFields {
		if f == name {
			return true
		}
	}
	return false
}

func isChildTableField(name string) bool {
	for _, f := range childTableFields {
		if f == name {
			return true
		}
	}
	return false
}

// standardFieldType gives the storage type of a standard column.
func standardFieldType(name string) string {
	switch name {
	case "docstatus", "idx":
		return "Int"
	case "creation", "modified":
		return "Datetime"
	}
	return "Data"
}

// parseFields builds fields from a compact spec, one field a line:
//
//	fieldname Type[:Options] [reqd] [aos] [ro] [nc] [default=X] [label=Some_Label]
//
// Options and labels use "_" for spaces and "^" for a real underscore; the label defaults to the title-cased
// fieldname; "\n" in Select options is written "|".
func parseFields(spec string) []*field {
	var out []*field
	for _, line := range strings.Split(spec, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.Fields(line)
		f := &field{Name: parts[0]}
		typ := parts[1]
		if i := strings.Index(typ, ":"); i >= 0 {
			f.Options = strings.NewReplacer("_", " ", "|", "\n", "^", "_").Replace(typ[i+1:])
			typ = typ[:i]
		}
		f.Type = strings.ReplaceAll(typ, "_", " ")
		for _, p := range parts[2:] {
			switch {
			case p == "reqd":
				f.Reqd = true
			case p == "aos":
				f.AllowOnSubmit = true
			case p == "ro":
				f.ReadOnly = true
			case p == "nc":
				f.NoCopy = true
			case strings.HasPrefix(p, "default="):
				f.Default = strings.ReplaceAll(strings.TrimPrefix(p, "default="), "_", " ")
			case strings.HasPrefix(p, "label="):
				f.Label = strings.ReplaceAll(strings.TrimPrefix(p, "label="), "_", " ")
			}
		}
		if f.Label == "" {
			f.Label = titleLabel(f.Name)
		}
		out = append(out, f)
	}
	return out
}

func titleLabel(fieldname string) string {
	words := strings.Split(fieldname, "_")
	for i, w := range words {
		if w == "" {
			continue
		}
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// perms builds DocPerms from "Role:rwcsxd" items (read, write, create,
// submit, cancel (x), delete).
func perms(items ...string) []docPerm {
	var out []docPerm
	for _, it := range items {
		role, flags, _ := strings.Cut(it, ":")
		p := docPerm{Role: role}
		for _, c := range flags {
			switch c {
			case 'r':
				p.Read = true
			case 'w':
				p.Write = true
			case 'c':
				p.Create = true
			case 's':
				p.Submit = true
			case 'x':
				p.Cancel = true
			case 'd':
				p.Delete = true
			}
		}
		out = append(out, p)
	}
	return out
}

// customFieldTypes are Custom Field's fieldtype options in Frappe v15
// (custom_field.json), in parseFields' notation.
const customFieldTypes = "Autocomplete|Attach|Attach_Image|Barcode|Button|Check|Code|Color|Column_Break|Currency|Data|Date|" +
	"Datetime|Duration|Dynamic_Link|Float|Fold|Geolocation|Heading|HTML|HTML_Editor|Icon|Image|Int|JSON|Link|Long_Text|" +
	"Markdown_Editor|Password|Percent|Phone|Read_Only|Rating|Section_Break|Select|Signature|Small_Text|Tab_Break|Table|" +
	"Table_MultiSelect|Text|Text_Editor|Time"

// Status options of the submittable doctypes (docs/erpnext.md#sales-order, #purchase-order, #item-warehouse-company-holiday-list).
const (
	soStatusOptions = "|Draft|On_Hold|To_Deliver_and_Bill|To_Bill|To_Deliver|Completed|Cancelled|Closed"
	poStatusOptions = "|Draft|On_Hold|To_Receive_and_Bill|To_Bill|To_Receive|Completed|Cancelled|Closed|Delivered"
)

// baseMetas returns fresh copies of every doctype the sandbox knows. The
// fields are those of ERPNext v15 / Frappe v15 that OTP and its tests touch
// (docs/erpnext.md#the-webhook-document, #the-request-log, #fields-otp-reads, #custom-fields), with their allow_on_submit, reqd and
// read_only flags.
func baseMetas() map[string]*meta {
	all := []*meta{
		{
			Name: "Sales Order", Submittable: true, Autoname: "naming_series:", Series: "SAL-ORD-.YYYY.-",
			Fields: parseFields(`
				naming_series Select:SAL-ORD-.YYYY.- reqd nc default=SAL-ORD-.YYYY.- label=Series
				customer Link:Customer reqd
				customer_name Data ro
				order_type Select:Sales|Maintenance|Shopping_Cart reqd default=Sales
				transaction_date Date reqd nc default=Today label=Date
				delivery_date Date aos nc
				po_no Data aos label=Customer's_Purchase_Order
				po_date Date aos label=Customer's_Purchase_Order_Date
				company Link:Company reqd
				skip_delivery_note Check
				amended_from Link:Sales_Order ro nc
				currency Link:Currency
				set_warehouse Link:Warehouse label=Set_Source_Warehouse
				reserve_stock Check
				items Table:Sales_Order_Item reqd
				total_qty Float ro label=Total_Quantity
				total Currency ro
				grand_total Currency ro
				status Select:` + soStatusOptions + ` reqd ro nc default=Draft
				delivery_status Select:|Not_Delivered|Fully_Delivered|Partly_Delivered|Closed|Not_Applicable ro nc
				per_delivered Percent ro nc label=%_Delivered
				per_billed Percent ro nc label=%_Amount_Billed
				per_picked Percent ro nc label=%_Picked
				billing_status Select:|Not_Billed|Fully_Billed|Partly_Billed|Closed ro nc
			`),
			Perms: perms("Sales User:rwcsxd", "Sales Manager:rwcsxd", "Maintenance User:rwcsxd",
				"Accounts User:r", "Stock User:r"),
		},
		{
			Name: "Sales Order Item", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				item_code Link:Item reqd
				item_name Data reqd
				description Text_Editor
				item_group Link:Item_Group ro
				delivery_date Date aos nc
				qty Float reqd label=Quantity
				stock_uom Link:UOM ro
				uom Link:UOM reqd label=UOM
				conversion_factor Float reqd label=UOM_Conversion_Factor
				stock_qty Float ro nc label=Qty_as_per_Stock_UOM
				rate Currency
				amount Currency ro
				delivered_by_supplier Check aos label=Supplier_delivers_to_Customer
				supplier Link:Supplier aos
				warehouse Link:Warehouse label=Delivery_Warehouse
				actual_qty Float ro aos nc
				projected_qty Float ro aos nc
				ordered_qty Float ro nc
				planned_qty Float ro nc
				produced_qty Float ro nc
				work_order_qty Float ro nc
				delivered_qty Float ro nc
				returned_qty Float ro nc
				picked_qty Float ro nc
				billed_amt Currency ro nc
				is_stock_item Check ro
				reserve_stock Check aos default=1
				stock_reserved_qty Float ro nc
				transaction_date Date ro
				prevdoc_docname Link:Quotation ro label=Quotation
			`),
		},
		{
			Name: "Purchase Order", Submittable: true, Autoname: "naming_series:", Series: "PUR-ORD-.YYYY.-",
			Fields: parseFields(`
				naming_series Select:PUR-ORD-.YYYY.- reqd nc default=PUR-ORD-.YYYY.- label=Series
				supplier Link:Supplier reqd
				supplier_name Data ro
				transaction_date Date reqd default=Today label=Date
				schedule_date Date aos label=Required_By
				company Link:Company reqd
				amended_from Link:Purchase_Order ro nc
				is_subcontracted Check
				currency Link:Currency
				set_warehouse Link:Warehouse label=Set_Target_Warehouse
				items Table:Purchase_Order_Item reqd
				total_qty Float ro label=Total_Quantity
				total Currency ro
				grand_total Currency ro
				status Select:` + poStatusOptions + ` reqd ro nc default=Draft
				per_received Percent ro nc label=%_Received
				per_billed Percent ro nc label=%_Billed
			`),
			Perms: perms("Purchase User:rwcsxd", "Purchase Manager:rwcsxd", "Stock User:r", "Accounts User:r"),
		},
		{
			Name: "Purchase Order Item", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				fg_item Link:Item label=Finished_Good_Item_Code
				item_code Link:Item reqd
				item_name Data reqd
				schedule_date Date reqd aos label=Required_By
				expected_delivery_date Date aos
				description Text_Editor
				qty Float reqd label=Quantity
				stock_uom Link:UOM reqd ro
				uom Link:UOM reqd label=UOM
				conversion_factor Float reqd label=UOM_Conversion_Factor
				stock_qty Float ro nc label=Total_Quantity
				rate Currency
				amount Currency ro
				warehouse Link:Warehouse label=Target_Warehouse
				delivered_by_supplier Check ro label=To_be_delivered_to_customer
				material_request Link:Material_Request ro nc
				material_request_item Data ro nc
				sales_order Link:Sales_Order ro nc
				sales_order_item Data ro nc
				received_qty Float ro nc
				returned_qty Float ro nc
				billed_amt Currency ro nc
			`),
		},
		{
			Name: "Purchase Receipt", Submittable: true, Autoname: "naming_series:", Series: "MAT-PRE-.YYYY.-",
			Fields: parseFields(`
				naming_series Select:MAT-PRE-.YYYY.- reqd nc default=MAT-PRE-.YYYY.- label=Series
				supplier Link:Supplier reqd
				supplier_name Data ro
				posting_date Date reqd nc default=Today label=Date
				posting_time Time nc
				set_posting_time Check label=Edit_Posting_Date_and_Time
				company Link:Company reqd
				is_return Check nc
				amended_from Link:Purchase_Receipt ro nc
				set_warehouse Link:Warehouse label=Accepted_Warehouse
				items Table:Purchase_Receipt_Item reqd
				total_qty Float ro label=Total_Quantity
				status Select:|Draft|To_Bill|Completed|Return_Issued|Cancelled|Closed reqd ro nc default=Draft
				per_billed Percent ro nc label=%_Amount_Billed
			`),
			Perms: perms("Stock User:rwcsxd", "Stock Manager:rwcsxd", "Purchase User:r", "Accounts User:r"),
		},
		{
			Name: "Purchase Receipt Item", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				item_code Link:Item reqd
				item_name Data reqd
				received_qty Float label=Received_Quantity
				qty Float label=Accepted_Quantity
				rejected_qty Float label=Rejected_Quantity
				uom Link:UOM reqd label=UOM
				stock_uom Link:UOM reqd ro
				conversion_factor Float reqd label=Conversion_Factor
				stock_qty Float ro label=Accepted_Qty_in_Stock_UOM
				received_stock_qty Float ro
				rate Currency
				amount Currency ro
				warehouse Link:Warehouse label=Accepted_Warehouse
				purchase_order Link:Purchase_Order ro nc
				purchase_order_item Data ro nc
			`),
		},
		{
			Name: "Delivery Note", Submittable: true, Autoname: "naming_series:", Series: "MAT-DN-.YYYY.-",
			Fields: parseFields(`
				naming_series Select:MAT-DN-.YYYY.- reqd nc default=MAT-DN-.YYYY.- label=Series
				customer Link:Customer reqd
				customer_name Data ro
				posting_date Date reqd nc default=Today label=Date
				posting_time Time nc
				set_posting_time Check label=Edit_Posting_Date_and_Time
				company Link:Company reqd
				is_return Check nc
				amended_from Link:Delivery_Note ro nc
				set_warehouse Link:Warehouse label=Set_Source_Warehouse
				items Table:Delivery_Note_Item reqd
				total_qty Float ro label=Total_Quantity
				status Select:|Draft|To_Bill|Completed|Return|Return_Issued|Cancelled|Closed reqd ro nc default=Draft
				per_billed Percent ro nc label=%_Amount_Billed
			`),
			Perms: perms("Stock User:rwcsxd", "Stock Manager:rwcsxd", "Sales User:r", "Accounts User:r"),
		},
		{
			Name: "Delivery Note Item", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				item_code Link:Item reqd
				item_name Data reqd
				qty Float reqd label=Quantity
				stock_uom Link:UOM reqd ro
				uom Link:UOM reqd label=UOM
				conversion_factor Float reqd label=UOM_Conversion_Factor
				stock_qty Float ro label=Qty_in_Stock_UOM
				rate Currency
				amount Currency ro
				warehouse Link:Warehouse
				against_sales_order Link:Sales_Order ro label=Against_Sales_Order
				so_detail Data ro nc label=Against_Sales_Order_Item
			`),
		},
		{
			Name: "Stock Entry", Submittable: true, Autoname: "naming_series:", Series: "MAT-STE-.YYYY.-",
			Fields: parseFields(`
				naming_series Select:MAT-STE-.YYYY.- reqd nc default=MAT-STE-.YYYY.- label=Series
				stock_entry_type Link:Stock_Entry_Type reqd
				purpose Select:Material_Issue|Material_Receipt|Material_Transfer|Material_Transfer_for_Manufacture|Manufacture|Repack|Send_to_Subcontractor ro
				company Link:Company reqd
				posting_date Date nc default=Today
				posting_time Time nc
				set_posting_time Check label=Edit_Posting_Date_and_Time
				from_warehouse Link:Warehouse label=Default_Source_Warehouse
				to_warehouse Link:Warehouse label=Default_Target_Warehouse
				amended_from Link:Stock_Entry ro nc
				items Table:Stock_Entry_Detail reqd
				total_outgoing_value Currency ro
				total_incoming_value Currency ro
			`),
			Perms: perms("Stock User:rwcsxd", "Stock Manager:rwcsxd", "Manufacturing User:rwcsxd", "Manufacturing Manager:rwcsxd"),
		},
		{
			Name: "Stock Entry Detail", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				s_warehouse Link:Warehouse label=Source_Warehouse
				t_warehouse Link:Warehouse label=Target_Warehouse
				item_code Link:Item reqd
				item_name Data
				qty Float reqd
				basic_rate Currency
				uom Link:UOM reqd label=UOM
				conversion_factor Float reqd
				stock_uom Link:UOM reqd ro
				transfer_qty Float reqd ro label=Qty_as_per_Stock_UOM
			`),
		},
		{
			Name: "Material Request", Submittable: true, Autoname: "naming_series:", Series: "MAT-MR-.YYYY.-",
			Fields: parseFields(`
				naming_series Select:MAT-MR-.YYYY.- reqd nc default=MAT-MR-.YYYY.- label=Series
				material_request_type Select:Purchase|Material_Transfer|Material_Issue|Manufacture|Customer_Provided reqd label=Purpose
				customer Link:Customer
				company Link:Company reqd
				transaction_date Date reqd nc default=Today
				schedule_date Date label=Required_By
				amended_from Link:Material_Request ro nc
				set_warehouse Link:Warehouse label=Set_Target_Warehouse
				items Table:Material_Request_Item reqd
				status Select:|Draft|Submitted|Stopped|Cancelled|Pending|Partially_Ordered|Partially_Received|Ordered|Issued|Transferred|Received ro nc
				per_ordered Percent ro nc label=%_Ordered
				per_received Percent ro nc label=%_Received
			`),
			Perms: perms("Purchase User:rwcsxd", "Purchase Manager:rwcsxd", "Stock User:rwcsxd", "Stock Manager:rwcsxd", "Manufacturing User:rwcsxd"),
		},
		{
			Name: "Material Request Item", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				item_code Link:Item reqd
				item_name Data
				schedule_date Date reqd aos label=Required_By
				description Text_Editor
				qty Float reqd label=Quantity
				stock_uom Link:UOM reqd ro
				uom Link:UOM reqd label=UOM
				conversion_factor Float reqd label=UOM_Conversion_Factor
				stock_qty Float ro nc
				warehouse Link:Warehouse label=Target_Warehouse
				ordered_qty Float ro nc label=Completed_Qty
				received_qty Float ro nc
			`),
		},
		{
			Name: "Bin", Autoname: "hash",
			Fields: parseFields(`
				warehouse Link:Warehouse reqd ro
				item_code Link:Item reqd ro
				reserved_qty Float ro label=Reserved_Quantity
				actual_qty Float ro label=Actual_Quantity
				ordered_qty Float ro label=Ordered_Quantity
				indented_qty Float ro label=Requested_Quantity
				planned_qty Float ro
				projected_qty Float ro
				reserved_qty_for_production Float ro
				reserved_qty_for_sub_contract Float ro
				reserved_qty_for_production_plan Float ro
				reserved_stock Float ro
				stock_uom Link:UOM ro label=UOM
				valuation_rate Float ro
				stock_value Float ro
			`),
			Perms: perms("Sales User:r", "Purchase User:r", "Stock User:r", "Sales Manager:r", "Purchase Manager:r",
				"Stock Manager:r", "Item Manager:r"),
		},
		{
			Name: "Item", Autoname: "field:item_code",
			Fields: parseFields(`
				item_code Data reqd
				item_name Data
				item_group Link:Item_Group default=All_Item_Groups
				stock_uom Link:UOM reqd default=Nos label=Default_Unit_of_Measure
				disabled Check
				is_stock_item Check default=1 label=Maintain_Stock
				has_variants Check nc
				variant_of Link:Item ro
				description Text_Editor
				end_of_life Date default=2099-12-31
				valuation_rate Currency
				standard_rate Currency nc label=Standard_Selling_Rate
				lead_time_days Int label=Lead_Time_in_days
				safety_stock Float
				min_order_qty Float label=Minimum_Order_Qty
				is_purchase_item Check default=1 label=Allow_Purchase
				purchase_uom Link:UOM label=Default_Purchase_Unit_of_Measure
				is_sales_item Check default=1 label=Allow_Sales
				sales_uom Link:UOM label=Default_Sales_Unit_of_Measure
				delivered_by_supplier Check label=Delivered_by_Supplier_(Drop_Ship)
				uoms Table:UOM_Conversion_Detail label=UOMs
			`),
			Perms: perms("Item Manager:rwcd", "Stock Manager:r", "Stock User:r", "Sales User:r", "Purchase User:r",
				"Maintenance User:r", "Accounts User:r", "Manufacturing User:r", "Sales Manager:r", "Purchase Manager:r"),
		},
		{
			Name: "UOM Conversion Detail", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				uom Link:UOM label=UOM
				conversion_factor Float
			`),
		},
		{
			Name: "Warehouse", Autoname: "controller",
			Fields: parseFields(`
				disabled Check
				warehouse_name Data reqd
				is_group Check
				parent_warehouse Link:Warehouse
				is_rejected_warehouse Check
				account Link:Account
				company Link:Company reqd
				warehouse_type Link:Warehouse_Type
				default_in_transit_warehouse Link:Warehouse
				lft Int ro
				rgt Int ro
			`),
			Perms: perms("Item Manager:rwcd", "Stock Manager:rwcd", "Stock User:r", "Sales User:r", "Purchase User:r",
				"Accounts User:r", "Manufacturing User:r", "Sales Manager:r", "Purchase Manager:r"),
		},
		{
			Name: "Company", Autoname: "field:company_name",
			Fields: parseFields(`
				company_name Data reqd label=Company
				abbr Data reqd
				default_currency Link:Currency
				country Link:Country
				default_holiday_list Link:Holiday_List
				parent_company Link:Company
				is_group Check
			`),
			Perms: perms("System Manager:rwcd", "Accounts User:r", "Accounts Manager:r", "Sales User:r", "Sales Manager:r",
				"Purchase User:r", "Purchase Manager:r", "Stock User:r", "Stock Manager:r", "HR Manager:r", "Projects User:r"),
		},
		{
			Name: "Holiday List", Autoname: "field:holiday_list_name",
			Fields: parseFields(`
				holiday_list_name Data reqd
				from_date Date reqd
				to_date Date reqd
				total_holidays Int ro
				weekly_off Select:|Sunday|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday
				country Autocomplete
				color Color
				holidays Table:Holiday
			`),
			// Holiday List is HR Manager only (docs/erpnext.md#child-tables).
			Perms: perms("HR Manager:rwcd"),
		},
		{
			Name: "Holiday", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				holiday_date Date reqd label=Date
				weekly_off Check
				description Text_Editor reqd
			`),
		},
		{
			Name: "Customer", Autoname: "field:customer_name",
			Fields: parseFields(`
				customer_name Data reqd
				customer_type Select:Company|Individual|Partnership reqd default=Company
				customer_group Link:Customer_Group
				territory Link:Territory
				default_currency Link:Currency
				disabled Check
				is_frozen Check
			`),
			Perms: perms("Sales User:rwc", "Sales Manager:rwcd", "Sales Master Manager:rwcd", "Stock User:r",
				"Stock Manager:r", "Accounts User:r", "Accounts Manager:r"),
		},
		{
			Name: "Supplier", Autoname: "field:supplier_name",
			Fields: parseFields(`
				supplier_name Data reqd
				supplier_type Select:Company|Individual|Partnership reqd default=Company
				supplier_group Link:Supplier_Group
				country Link:Country
				disabled Check
			`),
			Perms: perms("Purchase User:rwc", "Purchase Manager:rwcd", "Purchase Master Manager:rwcd", "Stock User:r",
				"Stock Manager:r", "Accounts User:r", "Accounts Manager:r"),
		},
		{
			Name: "Comment", Autoname: "hash",
			Fields: parseFields(`
				comment_type Select:Comment|Like|Info|Label|Workflow|Created|Submitted|Cancelled|Updated|Deleted|Assigned|Assignment_Completed|Attachment|Attachment_Removed|Shared|Unshared|Bot|Relinked|Edit reqd default=Comment
				comment_email Data
				subject Text
				comment_by Data
				published Check
				seen Check
				reference_doctype Link:DocType
				reference_name Dynamic_Link:reference_doctype
				reference_owner Data ro
				content HTML_Editor label=Comment
				ip_address Data
			`),
			Perms: perms("System Manager:rwcd", "All:rc"),
		},
		{
			// Frappe v15 custom_field.json, every field in its field_order
			// (docs/erpnext.md#custom-fields); Check fields default to 0 there.
			Name: "Custom Field", Autoname: "controller",
			Fields: parseFields(`
				is_system_generated Check ro default=0
				dt Link:DocType reqd label=DocType
				module Link:Module_Def label=Module_(for_export)
				label Data nc
				placeholder Data
				label_help HTML
				fieldname Data ro nc
				insert_after Select nc label=Insert_After
				length Int
				link_filters JSON
				column_break_6 Column_Break
				fieldtype Select:` + customFieldTypes + ` reqd default=Data label=Field_Type
				precision Select:|0|1|2|3|4|5|6|7|8|9
				hide_seconds Check default=0
				hide_days Check default=0
				options Small_Text
				sort_options Check default=0
				fetch_from Small_Text
				fetch_if_empty Check default=0 label=Fetch_on_Save_if_Empty
				options_help HTML
				section_break_11 Section_Break
				collapsible Check default=0
				collapsible_depends_on Code
				default Text label=Default_Value
				depends_on Code
				mandatory_depends_on Code
				read_only_depends_on Code
				properties Column_Break
				non_negative Check default=0
				reqd Check default=0 label=Is_Mandatory_Field
				unique Check default=0
				is_virtual Check default=0
				read_only Check default=0
				ignore_user_permissions Check default=0
				hidden Check default=0
				print_hide Check default=0
				print_hide_if_no_value Check default=0
				print_width Data nc
				no_copy Check default=0
				allow_on_submit Check default=0
				in_list_view Check default=0
				in_standard_filter Check default=0
				in_global_search Check default=0
				in_preview Check default=0
				bold Check default=0
				report_hide Check default=0
				search_index Check default=0 nc label=Index
				allow_in_quick_entry Check default=0
				ignore_xss_filter Check default=0 label=Ignore_XSS_Filter
				translatable Check default=0
				hide_border Check default=0
				show_dashboard Check default=0
				description Text label=Field_Description
				permlevel Int default=0 label=Permission_Level
				width Data
				columns Int
			`),
			Perms: perms("System Manager:rwcd", "Administrator:rwcd"),
		},
		{
			Name: "Webhook", Autoname: "prompt",
			Fields: parseFields(`
				webhook_doctype Link:DocType reqd label=DocType
				webhook_docevent Select:after^insert|on^update|on^submit|on^cancel|on^trash|on^update^after^submit|on^change label=Doc_Event
				enabled Check default=1
				condition Small_Text
				request_url Data reqd label=Request_URL
				timeout Int reqd default=5 label=Request_Timeout
				is_dynamic_url Check label=Is_Dynamic_URL?
				request_method Select:POST|PUT|DELETE reqd default=POST
				request_structure Select:|Form_URL-Encoded|JSON
				enable_security Check
				webhook_secret Password
				background_jobs_queue Autocomplete
				webhook_headers Table:Webhook_Header label=Headers
				webhook_data Table:Webhook_Data label=Data
				webhook_json Code:Jinja label=JSON_Request_Body
			`),
			Perms: perms("System Manager:rwcd"),
		},
		{
			// Frappe v15's frappe/custom/doctype/client_script: named by
			// the user, System Manager and Administrator only.
			Name: "Client Script", Autoname: "prompt",
			Fields: parseFields(`
				dt Link:DocType reqd label=DocType
				view Select:List|Form default=Form label=Apply_To
				module Link:Module_Def label=Module_(for_export)
				enabled Check default=0
				script Code:JS
			`),
			Perms: perms("System Manager:rwcd", "Administrator:rwcd"),
		},
		{
			Name: "Webhook Data", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				fieldname Select reqd
				key Data reqd
			`),
		},
		{
			Name: "Webhook Header", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				key Small_Text
				value Small_Text
			`),
		},
		{
			Name: "Webhook Request Log", Autoname: "hash",
			Fields: parseFields(`
				webhook Link:Webhook ro
				reference_document Data ro
				headers Code ro
				data Code ro
				user Data ro
				url Text ro
				response Code ro
				error Text ro
			`),
			Perms: perms("System Manager:rd"),
		},
		{
			Name: "User", Autoname: "controller",
			Fields: parseFields(`
				enabled Check default=1
				email Data reqd
				first_name Data reqd
				last_name Data
				full_name Data ro
				username Data
				user_type Select:System_User|Website_User default=System_User
				api_key Data ro nc
				roles Table:Has_Role label=Roles_Assigned
			`),
			Perms: perms("System Manager:rwcd"),
		},
		{
			Name: "Has Role", IsTable: true, Autoname: "hash",
			Fields: parseFields(`
				role Link:Role
			`),
		},
	}
	out := make(map[string]*meta, len(all))
	for _, m := range all {
		if m.SortField == "" {
			m.SortField = "modified"
		}
		out[m.Name] = m
	}
	return out
}
