-- credit_forecast: cost prediction. Credits per project for each of the
-- next 30 days (today to today + 29, UTC), with a band of about 95% (low,
-- high), by the method of credit_forecast_runs: weekday seasonality and a
-- linear trend over the last 8 weeks, by the credit rules of
-- credit_usage_daily. backtest_mape is the same method's mean absolute
-- percentage error over the four weeks up to yesterday
-- (credit_forecast_backtest): the mean of |credits - actual| / actual over
-- its days with actual > 0, NULL when none has.
SELECT
  f.project,
  f.day,
  f.credits,
  f.low,
  f.high,
  b.mape AS backtest_mape
FROM {{table "credit_forecast_runs"}} AS f
LEFT JOIN (
  SELECT project, AVG(ABS(credits - actual) / actual) AS mape
  FROM {{table "credit_forecast_runs"}}
  WHERE run = 'backtest' AND actual > 0
  GROUP BY project
) AS b
  ON b.project = f.project
WHERE f.run = 'forecast'
