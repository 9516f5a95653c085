package erp

// This file is the client's contract with the rest of OTP. Dates are
// ERPNext's "YYYY-MM-DD" strings ("" when unset) and Datetimes its
// "YYYY-MM-DD HH:MM:SS[.ffffff]" strings. Fields may be added; renaming or
// removing one means updating every caller in the same commit.

// Custom field names OTP writes on Sales Order and Sales Order Item
// (docs/erpnext.md#otps-custom-fields). The first two are the earlier OTP's names and must not change.
const (
	FieldPromiseDate      = "custom_otp_promise_date"
	FieldConfidence       = "custom_otp_confidence"
	FieldPromiseStatus    = "custom_otp_status"
	FieldFirstPromiseDate = "custom_otp_first_promise_date"
	FieldPromisedAt       = "custom_otp_promised_at"
	FieldExplanation      = "custom_otp_explanation"
	FieldFingerprint      = "custom_otp_fingerprint"
	// FieldCommented holds the key (date|confidence) of the last promise
	// OTP posted a timeline comment for: a promise is done when its fields
	// and its comment are both in ERPNext (docs/erpnext-faults.md#comments).
	FieldCommented = "custom_otp_commented"

	FieldLinePromiseDate = "custom_otp_line_promise_date"
	FieldLineConfidence  = "custom_otp_line_confidence"
)

// SalesOrder is a Sales Order with its lines, as read by GET.
type SalesOrder struct {
	Name            string
	Customer        string
	CustomerName    string
	Company         string
	Status          string
	DocStatus       int
	TransactionDate string
	DeliveryDate    string
	Creation        string
	SetWarehouse    string
	PerDelivered    float64
	GrandTotal      float64
	Modified        string
	ModifiedBy      string

	// OTP's custom fields as they are on the order now.
	PromiseDate      string
	Confidence       string
	PromiseStatus    string
	FirstPromiseDate string
	PromisedAt       string
	Explanation      string
	Fingerprint      string
	Commented        string // FieldCommented

	Items []SalesOrderItem

	// Raw is the document exactly as ERPNext returned it. A write that
	// touches child rows must send complete rows (PUT with items replaces the
	// whole table), so the client rebuilds them from Raw.
	Raw map[string]any
}

// SalesOrderItem is one Sales Order Item row.
type SalesOrderItem struct {
	Name             string // row name, the key for line-level writes
	Idx              int
	ItemCode         string
	ItemName         string
	Warehouse        string
	Qty              float64 // transaction UOM
	UOM              string
	StockUOM         string
	ConversionFactor float64
	StockQty         float64 // stock UOM
	DeliveredQty     float64 // transaction UOM
	DeliveryDate     string
	// DeliveredBySupplier marks a drop-ship line: the supplier ships it
	// straight to the customer, so it never draws on our stock.
	DeliveredBySupplier bool

	LinePromiseDate string
	LineConfidence  string
}

// Bin is stock of one item in one warehouse; all quantities in stock UOM.
type Bin struct {
	ItemCode                     string
	Warehouse                    string
	ActualQty                    float64
	ReservedQty                  float64
	OrderedQty                   float64
	IndentedQty                  float64
	PlannedQty                   float64
	ProjectedQty                 float64
	ReservedQtyForProduction     float64
	ReservedQtyForSubContract    float64
	ReservedQtyForProductionPlan float64
	ReservedStock                float64
}

// PurchaseOrderLine is an open line of a submitted Purchase Order.
type PurchaseOrderLine struct {
	PurchaseOrder        string
	Status               string // the parent's status
	Supplier             string // the parent's
	Name                 string // row name
	ItemCode             string
	Warehouse            string
	Qty                  float64 // transaction UOM
	ReceivedQty          float64 // transaction UOM
	ConversionFactor     float64
	ScheduleDate         string
	ExpectedDeliveryDate string
	DeliveredBySupplier  bool
}

// SalesOrderLine is a line of an open Sales Order of the order book, with
// the fields of its order that the allocation and the write-back need.
type SalesOrderLine struct {
	SalesOrder        string
	Status            string // the parent's status
	DocStatus         int    // 0 draft, 1 submitted
	Creation          string // the parent's creation: first come, first served
	Customer          string
	Company           string
	OrderDeliveryDate string // the parent's delivery_date
	SetWarehouse      string
	Modified          string // the parent's

	// OTP's fields on the order as they are now.
	PromiseDate      string
	Confidence       string
	PromiseStatus    string
	Explanation      string
	FirstPromiseDate string
	Commented        string // FieldCommented

	Name                string // row name
	Idx                 int
	ItemCode            string
	Warehouse           string
	UOM                 string  // the unit it was sold in
	Qty                 float64 // transaction UOM
	StockQty            float64
	ConversionFactor    float64
	DeliveredQty        float64 // transaction UOM
	DeliveryDate        string
	DeliveredBySupplier bool
	LinePromiseDate     string
	LineConfidence      string
}

// Item is the part of the Item master OTP reads.
type Item struct {
	Code         string
	Name         string
	StockUOM     string
	IsStockItem  bool
	Disabled     bool
	LeadTimeDays int
}

// Warehouse is a Warehouse document.
type Warehouse struct {
	Name            string
	Company         string
	ParentWarehouse string
	WarehouseType   string
	IsGroup         bool
	Disabled        bool
	// IsRejectedWarehouse marks a warehouse for rejected goods
	// (is_rejected_warehouse, docs/erpnext.md#item-warehouse-company-holiday-list): its stock is not
	// sellable.
	IsRejectedWarehouse bool
}

// HolidayList is a Holiday List with its rows.
type HolidayList struct {
	Name     string
	FromDate string
	ToDate   string
	Holidays []Holiday
}

// Holiday is one Holiday row.
type Holiday struct {
	Date        string
	Description string
	WeeklyOff   bool
}

// MaterialRequest is a draft Material Request to create.
type MaterialRequest struct {
	Type            string // "Purchase"
	Company         string
	TransactionDate string
	ScheduleDate    string
	Priority        string
	Items           []MaterialRequestItem
}

// MaterialRequestItem is one line of a Material Request.
type MaterialRequestItem struct {
	ItemCode     string
	Qty          float64
	ScheduleDate string
	Warehouse    string
}

// Comment is a timeline Comment of a document.
type Comment struct {
	Name     string
	Owner    string
	Creation string
	Content  string // HTML
}
