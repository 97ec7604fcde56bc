-- credit_forecast_backtest: the credit forecast's method run as if today
-- were 28 days ago (credit_forecast_runs): for each of the four weeks up to
-- yesterday, the forecast credits and band beside the actual credits and
-- the absolute percentage error ape = |credits - actual| / actual (NULL
-- when actual is 0). credit_forecast's backtest_mape is the mean of ape.
SELECT
  project,
  day,
  credits,
  low,
  high,
  actual,
  ABS(credits - actual) / NULLIF(actual, 0) AS ape
FROM {{table "credit_forecast_runs"}}
WHERE run = 'backtest'
