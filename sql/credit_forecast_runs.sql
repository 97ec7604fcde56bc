-- credit_forecast_runs: the credit forecast method, run from two origins,
-- for credit_forecast and credit_forecast_backtest, which read it:
--   run forecast  origin today (CURRENT_DATE, UTC), 30 days: today to
--                 today + 29;
--   run backtest  origin today - 28, 28 days: the four weeks up to and
--                 including yesterday, which have their actual credits.
-- Method, per project and run, over the 8 weeks (56 days) before the
-- origin, the history, with x the day's offset from the origin (-56..-1):
--   y      the day's credits from credit_usage_daily (its credit rules: the
--          rate card, from 2025-02-01, final up to yesterday); a day without
--          submissions is 0, a day before the project's first submission is
--          no history.
--   trend  least-squares line a + b x through (x, y); b is 0 when the
--          history has one day.
--   season the mean residual y - (a + b x) of the history's days of each
--          weekday position w = (x + 56) mod 7 (the same weekday as the
--          forecast day), 0 for a position without history.
--   sd     root mean square of the residuals y - (a + b x + season(w)).
--   credits = max(0, a + b x + season(w)) for x = 0 .. days - 1;
--   low, high = max(0, a + b x + season(w) -/+ 1.96 sd) (about 95% when
--          the residuals are normal).
-- actual is credit_usage_daily's credits of the day (0 without submissions;
-- today and later are not final: 0). A project without a day of history
-- before an origin (its first submission is on or after it) has no rows
-- of that run.
WITH runs AS (
  SELECT 'forecast' AS run, 0 AS shift, 30 AS horizon
  UNION ALL SELECT 'backtest', 28, 28
),
history AS (
  SELECT
    c.project,
    r.run,
    r.shift - c.days_ago AS x,
    COALESCE(u.credits, 0) AS y
  FROM {{table "calendar_days"}} AS c
  CROSS JOIN runs AS r
  LEFT JOIN {{table "credit_usage_daily"}} AS u
    ON u.project = c.project
    AND u.day = c.day
  WHERE c.days_ago BETWEEN r.shift + 1 AND r.shift + 56
),
trend AS (
  SELECT project, run, my - slope * mx AS intercept, slope
  FROM (
    SELECT
      project,
      run,
      AVG(x) AS mx,
      AVG(y) AS my,
      COALESCE((AVG(x * y) - AVG(x) * AVG(y)) / NULLIF(AVG(x * x) - AVG(x) * AVG(x), 0), 0) AS slope
    FROM history
    GROUP BY project, run
  ) AS moments
),
season AS (
  SELECT h.project, h.run, MOD(h.x + 56, 7) AS w, AVG(h.y - t.intercept - t.slope * h.x) AS effect
  FROM history AS h
  JOIN trend AS t
    ON t.project = h.project
    AND t.run = h.run
  GROUP BY h.project, h.run, MOD(h.x + 56, 7)
),
spread AS (
  SELECT
    h.project,
    h.run,
    SQRT(AVG((h.y - t.intercept - t.slope * h.x - s.effect) * (h.y - t.intercept - t.slope * h.x - s.effect))) AS sd
  FROM history AS h
  JOIN trend AS t
    ON t.project = h.project
    AND t.run = h.run
  JOIN season AS s
    ON s.project = h.project
    AND s.run = h.run
    AND s.w = MOD(h.x + 56, 7)
  GROUP BY h.project, h.run
),
fitted AS (
  SELECT
    c.project,
    r.run,
    c.day,
    t.intercept + t.slope * (r.shift - c.days_ago) + COALESCE(s.effect, 0) AS fit,
    d.sd
  FROM {{table "calendar_days"}} AS c
  CROSS JOIN runs AS r
  JOIN trend AS t
    ON t.project = c.project
    AND t.run = r.run
  JOIN spread AS d
    ON d.project = c.project
    AND d.run = r.run
  LEFT JOIN season AS s
    ON s.project = c.project
    AND s.run = r.run
    AND s.w = MOD(r.shift - c.days_ago + 56, 7)
  WHERE c.days_ago BETWEEN r.shift - r.horizon + 1 AND r.shift
)
SELECT
  f.project,
  f.run,
  f.day,
  GREATEST(f.fit, 0) AS credits,
  GREATEST(f.fit - 1.96 * f.sd, 0) AS low,
  GREATEST(f.fit + 1.96 * f.sd, 0) AS high,
  COALESCE(u.credits, 0) AS actual
FROM fitted AS f
LEFT JOIN {{table "credit_usage_daily"}} AS u
  ON u.project = f.project
  AND u.day = f.day
