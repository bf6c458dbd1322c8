/* Unit tests of src/results/load.c: which steps the machine's other load
 * distorts, the warning that names them, and the JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "results/load.h"

static const struct step_load steps[] = {
	{ "0 rules", 2.0 }, { "500 rules", 25.0 }, { "1000 rules", 24.9 },
	{ "1500 rules", NAN }, { "2000 rules", 61.4 },
};

static void test_warning_names_the_steps_at_the_threshold(void **state)
{
	char buf[1024];

	(void)state;
	load_warning(steps, 5, "steps", buf, sizeof(buf));
	assert_string_equal(buf, "other work took 25 % of the CPUs or more during 2 of 5 steps, "
				 "whose throughput and hook times it distorts (500 rules: 25 %, "
				 "2000 rules: 61 %): measure again on a quieter machine");
	/* environment's warnings are split at ';' */
	assert_null(strchr(buf, ';'));
}

static void test_no_warning_below_it(void **state)
{
	char buf[64] = "x";

	(void)state;
	load_warning(steps, 1, "steps", buf, sizeof(buf));
	assert_string_equal(buf, "");
	load_warning(&steps[2], 2, "flows", buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_many_steps_name_eight(void **state)
{
	struct step_load many[12];
	char buf[1024];

	(void)state;
	for (int i = 0; i < 12; i++) {
		snprintf(many[i].label, sizeof(many[i].label), "s%d", i);
		many[i].other_cpu_pct = 50;
	}
	load_warning(many, 12, "flows", buf, sizeof(buf));
	assert_non_null(strstr(buf, "during 12 of 12 flows"));
	assert_non_null(strstr(buf, "s7: 50 %, and 4 more)"));
	assert_null(strstr(buf, "s8:"));
}

static void test_json(void **state)
{
	json_object *j = load_json(steps, 5), *v;

	(void)state;
	assert_true(json_object_object_get_ex(j, "steps", &v));
	assert_int_equal(json_object_array_length(v), 5);
	assert_null(json_object_object_get(json_object_array_get_idx(v, 3), "other_cpu_pct"));
	assert_true(json_object_object_get_ex(j, "distorted", &v));
	assert_int_equal(json_object_array_length(v), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)), "2000 rules");
	json_object_put(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warning_names_the_steps_at_the_threshold),
		cmocka_unit_test(test_no_warning_below_it),
		cmocka_unit_test(test_many_steps_name_eight),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
