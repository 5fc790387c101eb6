"""dense_semantics: one real run of the exact checks, then every measured value asserted.

If one of these assertions fails after a Keras/TensorFlow upgrade, Keras changed what a Dense layer
holds or when it raises: the message says what the claim expects and what was measured.
"""

import pytest

from conftest import mlflow_runs
from claimlab import config, registry
from claimlab.verdict import CheckedValue, Evidence

CLAIM_IDS = ["X5", "X6", "X13", "X15", "X23", "X24", "X29", "X35", "X36", "X37", "X38"]
EXPERIMENT = registry.load("dense_semantics")


@pytest.fixture(scope="module")
def run(smoke_runs):
    return smoke_runs("dense_semantics")


def test_every_claim_is_judged_and_the_measured_values_are_metrics_of_the_checks_run(run):
    assert list(run["verdicts"]) == CLAIM_IDS
    (child,) = mlflow_runs(run["uri"], "dense_semantics")["checks"]
    metrics = child.data.metrics
    assert metrics["dense_linear_regression/parameters"] == 4
    assert metrics["dense_linear_regression/max_abs_difference_from_ols"] < 1e-3
    assert metrics["dense_kernel_shapes/parameters"] == 25_120


def test_x5_keras3_accepts_input_dim_on_the_second_layer(run):
    m = run["checks"]["second_layer_input_dim"]
    assert m["raises"] is None, (
        f"Keras now raises {m['raises']} at {m['failing_step']} for Dense(6, input_dim=3) after a 6-unit layer: "
        f"{m['message']} -- X5's verdict flips to supported")
    assert m["message"] is None and m["failing_step"] == "none"
    assert {step: s["raises"] for step, s in m["steps"].items()} == {"build": None, "predict": None, "fit": None}
    assert m["second_layer_kernel_shape"] == [6, 6], "input_dim=3 on the second layer is ignored: kernel is 6x6"
    assert m["parameters"] == (3 * 6 + 6) + (6 * 6 + 6) + (6 * 3 + 3)
    assert any("input_dim" in w for w in m["warnings"]), f"the Keras 3 warning about input_dim is gone: {m['warnings']}"
    x5 = run["verdicts"]["X5"]
    assert x5.verdict == "refuted" and "ignoring input_dim=3 on the second layer" in x5.reason
    assert x5.measured.checked == (CheckedValue("raises", "an exception", None, False),)


def test_x6_dense1_fits_the_least_squares_solution(run):
    m = run["checks"]["dense_linear_regression"]
    assert m["parameters"] == 4 and m["kernel_shape"] == [3, 1]
    assert m["bias_is_trainable_weight"] and m["bias_before_fit"] == 0.0
    assert m["max_abs_difference_from_ols"] < 1e-3, (
        f"Dense(1) after SGD: w={m['keras_coefficients']} b={m['keras_intercept']}, OLS w={m['ols_coefficients']} "
        f"b={m['ols_intercept']}")
    cfg = config.resolve(registry.load("dense_semantics"), "smoke")
    # OLS recovers the generating coefficients up to the noise (0.1 on 256 samples)
    assert m["ols_coefficients"] == pytest.approx(list(cfg["regression_coefficients"]), abs=0.05)
    assert m["ols_intercept"] == pytest.approx(cfg["regression_intercept"], abs=0.05)
    x6 = run["verdicts"]["X6"]
    assert x6.verdict == "supported"
    assert [(c.quantity, c.claimed, c.measured, c.match) for c in x6.measured.checked] == [
        ("parameters", 4, 4, True), ("bias_is_trainable_weight", True, True, True),
        ("max_abs_difference_from_ols", "<= 0.001", m["max_abs_difference_from_ols"], True)]


def test_x13_ten_features_into_a_five_feature_input_raises(run):
    m = run["checks"]["too_many_features"]
    assert m["raises"] == "ValueError", f"model.fit on 10 features into Input(shape=(5,)) now raises {m['raises']}"
    assert "expected shape=(None, 5)" in m["message"] and "found shape=(" in m["message"] and "10)" in m["message"], m["message"]
    assert m["predict_raises"] == "ValueError" and "expected shape=(None, 5)" in m["predict_message"]
    x13 = run["verdicts"]["X13"]
    assert x13.verdict == "supported" and "model.fit raised ValueError" in x13.reason
    assert x13.measured.checked == (CheckedValue("raises", "an exception", "ValueError", True),)


def test_x15_dense_kernel_and_bias(run):
    m = run["checks"]["dense_kernel_shapes"]
    assert m["kernel_shape"] == [784, 32], f"Dense(32) kernel on 784 inputs is now {m['kernel_shape']}"
    assert m["bias_shape"] == [32] and m["parameters"] == 785 * 32
    assert m["augmented_matrix_shape"] == [785, 32] and m["augmented_matrix_gives_output"]
    assert m["output_shape"] == [4, 32]
    assert m["wide_kernel_shape"] == [20, 64] and m["wide_output_units"] == 64
    assert m["wide_parameters"] == 20 * 64 + 64
    assert run["verdicts"]["X15"].verdict == "supported"


def _rule(claim_id, cfg):
    return next(c for c in EXPERIMENT.claims if c.id == claim_id).rule_for(cfg)


def test_the_rules_name_and_apply_the_config_of_the_run():
    default = config.resolve(EXPERIMENT, "smoke")
    stricter = config.resolve(EXPERIMENT, "smoke", overrides={"ols_tolerance": "5e-8"})
    assert "max_abs_difference_from_ols <= 0.001" in _rule("X6", default).describe()
    assert "max_abs_difference_from_ols <= 5e-08" in _rule("X6", stricter).describe()
    measured = {"parameters": 4, "kernel_shape": [3, 1], "bias_is_trainable_weight": True,
                "max_abs_difference_from_ols": 7.1e-08, "keras_coefficients": [1.5, -2.0, 0.5], "keras_intercept": 3.0,
                "ols_coefficients": [1.5, -2.0, 0.5], "ols_intercept": 3.0}
    evidence = Evidence(trials=None, checks={"dense_linear_regression": measured})
    assert _rule("X6", default).evaluate(evidence).verdict == "supported"
    assert _rule("X6", stricter).evaluate(evidence).verdict == "refuted"
    failed = Evidence(trials=None, checks={"dense_linear_regression": {"error": "RuntimeError: boom"}})
    assert _rule("X6", default).evaluate(failed).verdict == "inconclusive"  # a check that raised decides nothing
    wider = config.resolve(EXPERIMENT, "smoke", overrides={"fed_features": "12", "input_features": "4"})
    assert "32 samples of 12 features fed into keras.Input(shape=(4,))" in _rule("X13", wider).describe()


def test_regression_data_depend_on_data_seed_only():
    module = registry.load("dense_semantics").module
    cfg = config.resolve(registry.load("dense_semantics"), "smoke")
    x1, y1 = module.regression_data(cfg)
    x2, y2 = module.regression_data(cfg)
    x3, _ = module.regression_data({**cfg, "data_seed": 1})
    assert x1.shape == (256, 3) and y1.shape == (256, 1)
    assert (x1 == x2).all() and (y1 == y2).all() and not (x1 == x3).all()


def test_raised_records_type_and_message_as_one_plain_line():
    from claimlab.checks import raised  # what the X5 and X13 checks record their errors with

    def fail():
        raise ValueError("\x1b[1mbad\n   shape\x1b[0m")

    assert raised(fail) == {"raises": "ValueError", "message": "bad shape"}
    assert raised(lambda: None) == {"raises": None, "message": None}


def test_x23_a_dense_layer_starts_with_zero_biases(run):
    m = run["checks"]["dense_default_bias"]
    assert m["bias_initializer"] == "Zeros" and m["bias_all_zero"] is True and m["bias_shape"] == [8]
    # tf.layers.dense itself is gone with Keras 3: what it raises is recorded, not judged
    assert m["tf_layers_dense_raises"] == "AttributeError" and "Keras 3" in m["tf_layers_dense_message"]
    assert run["verdicts"]["X23"].verdict == "supported"


def test_x24_random_weights_break_the_symmetry_that_equal_weights_keep(run):
    m = run["checks"]["random_weights_break_symmetry"]
    assert m["by_draw"]["seeds"] == [0, 1, 2, 3, 4]
    assert m["random_units_differ_before_training"] and m["random_units_differ_after_training"]
    assert min(m["by_draw"]["random_closest_units_after_training"]) > 1e-3
    assert min(m["by_draw"]["random_train_accuracy"]) > 0.5  # it trained: 4 classes, chance 0.25
    # equal weights: every unit of a layer gets the same gradient, so the units stay exactly equal
    assert m["equal_units_identical_before_training"] and m["equal_units_identical_after_training"]
    assert m["equal_farthest_units_after_training"] <= 1e-6 and m["equal_biases_moved"] > 0.01  # symmetry_tolerance
    assert run["verdicts"]["X24"].verdict == "supported"


def test_x29_every_default_bias_is_zero_except_the_lstm_forget_gate(run):
    m = run["checks"]["default_biases_of_layers"]
    assert m["layers_measured"] == 11 and m["layers_with_zero_bias"] == 10
    assert m["bias_initializers"] == dict.fromkeys(m["per_layer"], "Zeros"), m["bias_initializers"]
    assert m["layers_with_nonzero_bias"] == ["LSTM"], f"biases not all 0 by default: {m['layers_with_nonzero_bias']}"
    # the LSTM's initializer is Zeros too: unit_forget_bias=True sets the forget gate's quarter (i, f, c, o) to 1
    lstm = m["per_layer"]["LSTM"]
    assert m["lstm_unit_forget_bias"] is True and m["lstm_nonzero_gates"] == ["forget"]
    assert lstm["bias_attribute"] == "cell.bias" and lstm["bias_shape"] == [16]
    assert lstm["nonzero_values"] == [1.0] and lstm["nonzero_count"] == 4 and lstm["nonzero_first_last_index"] == [4, 7]
    assert m["per_layer"]["GRU"]["bias_shape"] == [2, 12]  # reset_after=True: an input and a recurrent bias
    assert m["per_layer"]["BatchNormalization"]["bias_attribute"] == "beta"
    assert m["batch_norm_gamma_all_one"] and m["layer_norm_gamma_all_one"]
    assert m["every_default_bias_is_zero"] is False
    x29 = run["verdicts"]["X29"]
    assert x29.verdict == "refuted"
    assert x29.measured.checked == (CheckedValue("every_default_bias_is_zero", True, False, False),)
    assert "10 of 11 layers start with an all-zero bias" in x29.reason and "non-zero gates: forget" in x29.reason


def test_x35_conv2d_refuses_a_flattened_image_and_flatten_gives_784(run):
    m = run["checks"]["conv2d_on_flattened_image"]
    assert m["flattened_input_raises"] == "ValueError", (
        f"Conv2D(64, 3) on keras.Input(shape=(784,)) now raises {m['flattened_input_raises']}: "
        f"{m['flattened_input_message']} -- X35's first half changes")
    assert "expected min_ndim=4, found ndim=2" in m["flattened_input_message"], m["flattened_input_message"]
    assert m["conv2d_accepts_flattened_image"] is False and m["conv2d_input_min_ndim"] == 4
    assert m["image_output_shape"] == [None, 26, 26, 64]  # 28x28x1, 3x3 'valid', 64 filters
    assert m["flattened_shape"] == [2, 784] and m["flattened_length"] == 28 * 28
    x35 = run["verdicts"]["X35"]
    assert x35.verdict == "refuted"
    assert x35.measured.checked == (CheckedValue("conv2d_accepts_flattened_image", True, False, False),
                                    CheckedValue("flattened_length", 724, 784, False))
    assert "raised ValueError" in x35.reason and "[None, 26, 26, 64]" in x35.reason and "[2, 784]" in x35.reason


def test_x36_only_the_categorical_mismatch_raises_mse_broadcasts_and_sparse_labels_train(run):
    m = run["checks"]["output_shape_against_labels"]
    cases = m["cases"]
    assert {name: case["raises"] for name, case in cases.items()} == {
        "mse_fewer_outputs_than_labels": None, "mse_more_outputs_than_labels": None,
        "categorical_mismatch": "ValueError", "sparse_labels_of_another_shape": None}, cases
    assert "must have the same shape" in cases["categorical_mismatch"]["message"]
    assert [(c["output_shape"], c["label_shape"]) for c in cases.values()] == [
        ([None, 1], [8, 3]), ([None, 3], [8, 1]), ([None, 3], [8, 5]), ([None, 10], [8])]
    # a mismatched MSE trains: Keras' loss is the mean of (prediction - label)^2 broadcast to (8, 3)
    for name in ("mse_fewer_outputs_than_labels", "mse_more_outputs_than_labels"):
        assert cases[name]["loss_is_broadcast_mse"] is True and cases[name]["final_loss"] > 0, cases[name]
    assert cases["categorical_mismatch"]["final_loss"] is None
    assert m["cases_that_trained"] == ["mse_fewer_outputs_than_labels", "mse_more_outputs_than_labels",
                                       "sparse_labels_of_another_shape"]
    x36 = run["verdicts"]["X36"]
    assert x36.verdict == "refuted"
    assert [(c.quantity, c.measured, c.match) for c in x36.measured.checked] == [
        ("mse_fewer_outputs_than_labels_raises", False, False), ("mse_more_outputs_than_labels_raises", False, False),
        ("categorical_mismatch_raises", True, True), ("sparse_labels_of_another_shape_raise", False, False)]
    assert "trained without error" in x36.reason and "broadcast against each other" in x36.reason


def test_x35_a_conv2d_that_took_the_vector_and_a_724_flatten_would_support():
    x35 = _rule("X35", config.resolve(EXPERIMENT, "smoke"))
    measured = {"conv2d_accepts_flattened_image": True, "flattened_input_raises": None, "flattened_input_message": None,
                "conv2d_input_min_ndim": 2, "image_output_shape": [None, 26, 26, 64], "flattened_shape": [2, 724],
                "flattened_length": 724}
    assert x35.evaluate(Evidence(None, {"conv2d_on_flattened_image": measured})).verdict == "supported"
    outcome = x35.evaluate(Evidence(None, {"conv2d_on_flattened_image": {**measured, "flattened_length": 784}}))
    assert outcome.verdict == "refuted" and [c.match for c in outcome.checked] == [True, False]


def test_x36_every_case_raising_supports_and_one_that_trains_refutes():
    x36 = _rule("X36", config.resolve(EXPERIMENT, "smoke"))
    names = ["mse_fewer_outputs_than_labels", "mse_more_outputs_than_labels", "categorical_mismatch",
             "sparse_labels_of_another_shape"]
    raising = {"output_shape": [None, 3], "label_shape": [8, 5], "loss": "mse", "raises": "ValueError",
               "message": "shapes differ", "final_loss": None}
    measured = {"mse_fewer_outputs_than_labels_raises": True, "mse_more_outputs_than_labels_raises": True,
                "categorical_mismatch_raises": True, "sparse_labels_of_another_shape_raise": True,
                "cases_that_trained": [], "cases": dict.fromkeys(names, raising)}
    assert x36.evaluate(Evidence(None, {"output_shape_against_labels": measured})).verdict == "supported"
    trained = {**raising, "raises": None, "message": None, "final_loss": 2.08}
    sparse_trains = {**measured, "sparse_labels_of_another_shape_raise": False,
                     "cases": {**measured["cases"], "sparse_labels_of_another_shape": trained}}
    outcome = x36.evaluate(Evidence(None, {"output_shape_against_labels": sparse_trains}))
    assert outcome.verdict == "refuted" and [c.match for c in outcome.checked] == [True, True, True, False]
    assert "trained without error, final loss 2.08" in outcome.reason


def test_x37_x38_the_implicit_input_layer_has_the_input_shape_and_no_weights(run):
    m = run["checks"]["implicit_input_layer"]
    assert m["model_layers"] == ["Dense", "Dense"], "model.layers now lists the input layer: X38's 'hidden' changed"
    assert m["graph_layers"] == ["InputLayer", "Dense", "Dense"]
    assert m["input_layer_shape"] == [None, 4]
    assert (m["input_layer_parameters"], m["input_layer_weight_count"]) == (0, 0)
    assert m["dense_parameters"] == [4 * 6 + 6, 6 * 3 + 3]
    assert run["verdicts"]["X37"].verdict == run["verdicts"]["X38"].verdict == "supported"


def test_x37_x38_an_input_layer_with_weights_or_listed_refutes():
    measured = {"listed_in_model_layers": False, "model_layers": ["Dense", "Dense"],
                "graph_layers": ["InputLayer", "Dense", "Dense"], "input_layer_class": "InputLayer",
                "input_layer_shape": [None, 4], "input_layer_parameters": 0, "input_layer_weight_count": 0,
                "dense_parameters": [30, 21]}
    rules = {c.id: c.rule_for(config.resolve(EXPERIMENT, "smoke")) for c in EXPERIMENT.claims if c.id in ("X37", "X38")}

    def verdicts(values):
        return [rules[i].evaluate(Evidence(None, {"implicit_input_layer": values})).verdict for i in ("X37", "X38")]

    assert verdicts(measured) == ["supported", "supported"]
    assert verdicts({**measured, "input_layer_parameters": 4, "input_layer_weight_count": 1}) == ["refuted", "supported"]
    assert verdicts({**measured, "listed_in_model_layers": True}) == ["supported", "refuted"]
    assert verdicts({**measured, "input_layer_shape": [None, 6]}) == ["supported", "refuted"]
