-- credit_usage_daily: credits used per project and UTC day.
SELECT
  project,
  day,
  credits
FROM {{table "stats_daily"}}
