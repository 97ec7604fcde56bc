package fractal

import "github.com/kycetl/kycetl/transform/schema"

// SnapshotDateCol is the partition day of every Fractal table: the UTC day
// of the pull. The API answers "right now" only, so a day holds one
// snapshot, and a later pull on the same day replaces it.
var SnapshotDateCol = schema.Column{Name: "snapshot_date", Type: schema.Date,
	Doc: "UTC day of the pull; the partition. A day holds one snapshot: a later pull on the same day replaces it."}

// snapshotAtCol is when the pull started, the same on every row of a snapshot.
var snapshotAtCol = schema.Column{Name: "snapshot_at", Type: schema.Timestamp, Doc: "When the pull started (UTC)."}

// statusDoc is the status column's meaning in every table.
const statusDoc = "Status as the API sent it: approved, rejected, pending, contacted, expired, or one the documents do not list (kept and counted, never dropped)."

// The Fractal tables. Columns read the answers of the statistics endpoints
// (../shared/seeds/001_…): their paths name the endpoint and where in its
// answer the value is.
var (
	TotalsTable = &schema.Table{
		Name: "fractal_verification_totals",
		Doc: "One row per status of `GET /v2/stats/total-verifications` in each daily snapshot: how many user verifications " +
			"had that status at the pull. A status the API leaves out (a zero count) has no row.",
		Day: &SnapshotDateCol, Cluster: []string{"status"},
		Columns: []schema.Column{
			snapshotAtCol,
			{Name: "status", Type: schema.String, Path: TotalPath + " key", Doc: statusDoc},
			{Name: "verifications", Type: schema.Int64, Path: TotalPath + " value", Doc: "User verifications with that status at the pull."},
		},
	}
	CountriesTable = &schema.Table{
		Name: "fractal_country_verifications",
		Doc: "One row per country and status of `GET /v2/stats/country-verifications` in each daily snapshot. " +
			"A country or status the API leaves out (a zero count) has no row.",
		Day: &SnapshotDateCol, Cluster: []string{"country", "status"},
		Columns: []schema.Column{
			snapshotAtCol,
			{Name: "country", Type: schema.String, Path: CountryPath + " key", Doc: "Country code as the API sent it (ISO 3166-1 alpha-2 in the vendor's examples)."},
			{Name: "status", Type: schema.String, Path: CountryPath + " .*key", Doc: statusDoc},
			{Name: "verifications", Type: schema.Int64, Path: CountryPath + " .*value", Doc: "User verifications of that country with that status at the pull."},
		},
	}
	UsersTable = &schema.Table{
		Name: "fractal_user_verifications",
		Doc: "One row per element of `GET /v2/stats/user-verifications` in each daily snapshot: a user's credential for a " +
			"KYC level at the pull. A user verified for several levels has a row per level.",
		Day: &SnapshotDateCol, Cluster: []string{"user_id"},
		Columns: []schema.Column{
			snapshotAtCol,
			{Name: "user_id", Type: schema.String, Path: UserPath + "[].user_id", Doc: "Fractal's user ID (a UUID Fractal assigns; not an identity document number)."},
			{Name: "level", Type: schema.String, Path: UserPath + "[].level", Doc: "KYC level the credential is for (v1, light+selfie+wallet, ...)."},
			{Name: "credential", Type: schema.String, Path: UserPath + "[].credential", Doc: statusDoc},
		},
	}
)

// Tables are the Fractal tables, in the order a snapshot fills them.
func Tables() []*schema.Table { return []*schema.Table{TotalsTable, CountriesTable, UsersTable} }
