-- submission_facts: one row per submission, with every indicator of the
-- statistics page defined here once; the published views aggregate it.
--   day      UTC date of created_at (the partition).
--   country  ID issuing country, else nationality.
--   credits  from the rate card in credit_rates: the check rate (id_check or
--            knowledge_check, by kind) when the check reached a result
--            (approved, rejected or pending), plus the aml_screening rate when
--            the submission was screened; a rate applies on the days from
--            valid_from to valid_to (open-ended when NULL); 0 for today and
--            later, whose usage is not final. The periods of one item must
--            not overlap.
--   aml_red_flag   aml.currentstatus is Red Flag (any case).
--   reviewer       who decided (reviewer: system or agent), as sent.
--   kyc_result_at  when the result was finalised.
-- The join conditions are equalities between both sides, as BigQuery's
-- LEFT JOIN requires.
SELECT
  s.project,
  s.created_date AS day,
  s.submission_id,
  s.status,
  s.kind,
  COALESCE(s.has_aml, FALSE) AS has_aml,
  COALESCE(NULLIF(s.idcard_issuing_country, ''), NULLIF(s.nationality, '')) AS country,
  s.userid,
  s.created_at,
  CASE
    WHEN s.created_date < CURRENT_DATE
      THEN COALESCE(check_rate.credits, 0) + COALESCE(aml_rate.credits, 0)
    ELSE 0
  END AS credits,
  COALESCE(LOWER(s.aml_current_status) = 'red flag', FALSE) AS aml_red_flag,
  s.reviewer,
  s.kyc_result_at
FROM {{table "submissions"}} AS s
LEFT JOIN {{table "credit_rates"}} AS check_rate
  ON check_rate.item = CASE
      WHEN s.status IN ('approved', 'rejected', 'pending') THEN
        CASE s.kind
          WHEN 'id_document' THEN 'id_check'
          WHEN 'knowledge_based' THEN 'knowledge_check'
        END
    END
  AND s.created_date BETWEEN check_rate.valid_from AND COALESCE(check_rate.valid_to, DATE '9999-12-31')
LEFT JOIN {{table "credit_rates"}} AS aml_rate
  ON aml_rate.item = CASE WHEN s.has_aml THEN 'aml_screening' END
  AND s.created_date BETWEEN aml_rate.valid_from AND COALESCE(aml_rate.valid_to, DATE '9999-12-31')
