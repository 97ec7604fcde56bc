-- stats_totals: the statistics page per project over all days, summed from
-- stats_daily (a submission belongs to exactly one day). Ratios are a
-- status's count over the total; approval_rate is approved over approved
-- plus rejected, NULL when both are 0 (the same definitions as stats_daily).
-- Columns are only ever added, at the end.
SELECT
  project,
  total,
  approved,
  rejected,
  incomplete,
  pending,
  aml_count,
  credits,
  approved / NULLIF(total, 0) AS approved_ratio,
  rejected / NULLIF(total, 0) AS rejected_ratio,
  incomplete / NULLIF(total, 0) AS incomplete_ratio,
  pending / NULLIF(total, 0) AS pending_ratio,
  approved / NULLIF(approved + rejected, 0) AS approval_rate
FROM (
  SELECT
    project,
    CAST(SUM(total) AS BIGINT) AS total,
    CAST(SUM(approved) AS BIGINT) AS approved,
    CAST(SUM(rejected) AS BIGINT) AS rejected,
    CAST(SUM(incomplete) AS BIGINT) AS incomplete,
    CAST(SUM(pending) AS BIGINT) AS pending,
    CAST(SUM(aml_count) AS BIGINT) AS aml_count,
    SUM(credits) AS credits
  FROM {{table "stats_daily"}}
  GROUP BY project
) AS totals
