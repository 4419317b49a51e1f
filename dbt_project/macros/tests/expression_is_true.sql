{#-
    Generic test: every row of the model satisfies a SQL expression (optionally only the
    rows matching `where`, via the standard test config). Fails with the offending rows.
    On a column the expression is still written out in full (column_name is not implied).
    The rows are kept without their PHI columns (failing_rows).

        data_tests:
          - expression_is_true:
              arguments:
                expression: "service_to_date >= service_from_date"
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select {{ failing_rows() }}
from {{ model }}
where not ({{ expression }})

{% endtest %}
