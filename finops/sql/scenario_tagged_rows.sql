-- scenario_tagged_rows: the rows of rows_to_tag (daily rollup rows or usage rows; both keep
-- tags) whose tags hold every key/value pair of a scenario's scope ($tag_keys[i] =
-- $tag_values[i], compared as text); no pairs keeps every row.
-- reads: rows_to_tag
SELECT *
FROM rows_to_tag
WHERE len(list_filter(
    range(len(CAST($tag_keys AS VARCHAR[]))),
    lambda i: json_extract_string(tags, '$."' || CAST($tag_keys AS VARCHAR[])[i + 1] || '"')
        IS DISTINCT FROM CAST($tag_values AS VARCHAR[])[i + 1]
)) = 0
