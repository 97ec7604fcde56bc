-- calendar_days: every UTC day of each project, from the day of its first
-- submission to 29 days after today (CURRENT_DATE), so that a day without
-- submissions is a day with 0 of them rather than a missing row, and so that
-- the views need no day arithmetic of their own (DuckDB and BigQuery write
-- DATE_DIFF and the day of the week differently):
--   days_ago  days before today: 0 today, 1 yesterday, negative ahead.
--   weekday   ISO day of the week, 1 Monday to 7 Sunday, from the day's
--             Rata Die number (1 on 0001-01-01, a Monday):
--             365 (y - 1) + floor((y - 1) / 4) - floor((y - 1) / 100)
--             + floor((y - 1) / 400) + day of the year.
-- It reaches back at most 9,970 days (27 years) before today.
WITH digits AS (
  SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
  UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9
),
offsets AS (
  SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d AS n
  FROM digits AS a
  CROSS JOIN digits AS b
  CROSS JOIN digits AS c
  CROSS JOIN digits AS e
),
days AS (
  SELECT
    p.project,
    p.first_day,
    CAST(DATE_ADD(CURRENT_DATE, INTERVAL (29 - o.n) DAY) AS DATE) AS day,
    o.n - 29 AS days_ago
  FROM (
    SELECT project, MIN(day) AS first_day
    FROM {{table "submission_facts"}}
    GROUP BY project
  ) AS p
  CROSS JOIN offsets AS o
)
SELECT
  project,
  day,
  days_ago,
  MOD(365 * (y - 1) + CAST(FLOOR((y - 1) / 4) AS BIGINT) - CAST(FLOOR((y - 1) / 100) AS BIGINT)
    + CAST(FLOOR((y - 1) / 400) AS BIGINT) + doy - 1, 7) + 1 AS weekday
FROM (
  SELECT project, day, days_ago, EXTRACT(YEAR FROM day) AS y, EXTRACT(DAYOFYEAR FROM day) AS doy
  FROM days
  WHERE day >= first_day
) AS d
