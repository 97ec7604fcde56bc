-- stats_daily: the statistics page per project and UTC day. Ratios are a
-- status's count over the total; approval_rate is approved over approved
-- plus rejected, NULL when both are 0.
SELECT
  project,
  day,
  total,
  approved,
  rejected,
  incomplete,
  pending,
  aml_count,
  approved / total AS approved_ratio,
  rejected / total AS rejected_ratio,
  incomplete / total AS incomplete_ratio,
  pending / total AS pending_ratio,
  approved / NULLIF(approved + rejected, 0) AS approval_rate,
  credits
FROM (
  SELECT
    project,
    day,
    COUNT(DISTINCT submission_id) AS total,
    COUNT(DISTINCT CASE WHEN status = 'approved' THEN submission_id END) AS approved,
    COUNT(DISTINCT CASE WHEN status = 'rejected' THEN submission_id END) AS rejected,
    COUNT(DISTINCT CASE WHEN status = 'incomplete' THEN submission_id END) AS incomplete,
    COUNT(DISTINCT CASE WHEN status = 'pending' THEN submission_id END) AS pending,
    COUNT(DISTINCT CASE WHEN has_aml THEN submission_id END) AS aml_count,
    SUM(credits) AS credits
  FROM {{table "submission_facts"}}
  GROUP BY project, day
) AS daily
