# Component tests (one line per component): uag_add_test(<component>)
uag_add_test(generator)
uag_add_test(sampling)
uag_add_test(draft)
