# Component tests (one line per component): uag_add_test(<component>)
uag_add_test(generator)
