-- stats_totals: the statistics page per project over all days, summed from
-- stats_daily (a submission belongs to exactly one day).
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
