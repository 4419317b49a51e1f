-- The portability macros (macros/portability) give their documented results on this
-- adapter. Each row returned is a failing case. A check of our code rather than of the
-- data, so the Dagster dbt assets leave it out (tag dev_check); dbt build runs it.
{{ config(tags=['dev_check']) }}

with

cases as (

    select
        'age the day before the birthday' as case_name,
        {{ age_in_years("date '2000-06-15'", "date '2010-06-14'") }} as actual,
        9 as expected

    union all

    select
        'age on the birthday' as case_name,
        {{ age_in_years("date '2000-06-15'", "date '2010-06-15'") }} as actual,
        10 as expected

    union all

    select
        '29 February birthday on 28 February of a common year' as case_name,
        {{ age_in_years("date '2000-02-29'", "date '2001-02-28'") }} as actual,
        0 as expected

    union all

    select
        '29 February birthday on 1 March of a common year' as case_name,
        {{ age_in_years("date '2000-02-29'", "date '2001-03-01'") }} as actual,
        1 as expected

    union all

    select
        'composite key joins the parts with a dash' as case_name,
        case when {{ composite_key(["12", "345", "'6'"]) }} = '12-345-6' then 1 else 0 end
            as actual,
        1 as expected

    union all

    select
        'pseudonymised ids are stable, differ, hide the id and are keyed' as case_name,
        case
            when
                {{ pseudonymise("'ABC123'") }} = {{ pseudonymise("'ABC123'") }}
                and {{ pseudonymise("'ABC123'") }} != 'ABC123'
                and {{ pseudonymise("'ABC123'") }} != {{ pseudonymise("'ABC124'") }}
                and {{ pseudonymise("'ABC123'") }} != {{ dbt.hash("'ABC123'") }}
                and {{ pseudonymise("'ABC123'") }} != sha256('ABC123')
                then 1
            else 0
        end as actual,
        1 as expected

    union all

    select
        'pseudonymised null stays null' as case_name,
        case
            when {{ pseudonymise("cast(null as " ~ dbt.type_string() ~ ")") }} is null then 1
            else 0
        end as actual,
        1 as expected

),

ordered_rows as (

    select
        'b' as row_label,
        2 as row_order

    union all

    select
        'a' as row_label,
        1 as row_order

    union all

    select
        'c' as row_label,
        3 as row_order

),

picked as (

    select
        {{ value_at_min('row_label', 'row_order') }} as first_label,
        {{ value_at_max('row_label', 'row_order') }} as last_label
    from ordered_rows

),

failures as (

    select
        case_name,
        actual,
        expected
    from cases
    where actual != expected

    union all

    select
        'value_at_min and value_at_max pick the extreme rows' as case_name,
        0 as actual,
        1 as expected
    from picked
    where first_label != 'a' or last_label != 'c'

)

select * from failures
