"""lstm_shapes: one real run of the exact checks, then every measured value asserted.

If one of these assertions fails after a Keras/TensorFlow upgrade, the library changed how it shapes,
counts or reports a recurrent layer: the message says what the claim expects and what was measured.
"""

import pytest

from conftest import mlflow_runs

CLAIM_IDS = ["X7", "X16", "X16b", "X17", "X27"]


@pytest.fixture(scope="module")
def run(smoke_runs):
    return smoke_runs("lstm_shapes")


def test_every_claim_is_judged_and_the_measured_values_are_metrics_of_the_checks_run(run):
    assert list(run["verdicts"]) == CLAIM_IDS
    (child,) = mlflow_runs(run["uri"], "lstm_shapes")["checks"]
    metrics = child.data.metrics
    assert metrics["lstm_300_on_20_steps/parameters"] == 362_400
    assert metrics["lstm_300_on_20_steps/parameters_on_40_steps"] == 362_400
    assert metrics["lstm_outputs_and_states/state_count"] == 2
    assert metrics["recurrent_kernel_shapes/layers_checked"] == 4
    assert metrics["recurrent_kernel_shapes/recurrent_kernels_with_an_input_sized_dimension"] == 0


def test_x7_simple_rnn_after_dense_raises_the_ndim_error_and_reshape_fixes_it(run):
    m = run["checks"]["simple_rnn_after_dense"]
    assert m["raises"] == "ValueError", f"Keras no longer raises ValueError for SimpleRNN on 2-D input: {m}"
    assert "expected ndim=3, found ndim=2" in m["message"], f"Keras changed the rank error's text: {m['message']!r}"
    assert m["errors_by_input_dim"] == {"1": "ValueError", "2": "ValueError", "5": "ValueError"}
    assert m["same_error_for_every_input_dim"]
    assert m["reshape_predict_shapes"] == {"8x1": [3, 1], "4x2": [3, 1], "2x4": [3, 1], "1x8": [3, 1]}
    assert m["reshape_3x3_raises"] == "ValueError" and "total size of the tensor must be unchanged" in m["reshape_3x3_message"]
    assert m["sequence_input_output_shape"] == [None, 1]
    assert run["verdicts"]["X7"].verdict == "supported"


def test_x16_lstm_300_on_20_steps_has_362400_parameters_and_outputs_1_by_300(run):
    m = run["checks"]["lstm_300_on_20_steps"]
    assert m["parameters"] == 362_400 == 4 * 300 * (1 + 300 + 1), f"LSTM(300) on (20, 1): {m['parameters']} parameters"
    assert m["summary_output_shape"] == [None, 300] and m["predict_output_shape"] == [1, 300]
    assert (m["kernel_shape"], m["recurrent_kernel_shape"], m["bias_shape"]) == ([1, 1200], [300, 1200], [1200])
    assert m["parameters_on_40_steps"] == 362_400
    assert m["simple_rnn_kernel_shape"] == [1, 300] and m["simple_rnn_recurrent_kernel_shape"] == [300, 300]
    # The question's LSTM(units_size=300): Keras 3 rejects it (units is required and positional).
    assert m["asker_units_size_keyword"]["raises"] == "TypeError"
    assert run["verdicts"]["X16"].verdict == "supported"


def test_x16b_return_sequences_shapes_and_the_4_gate_formula(run):
    m = run["checks"]["lstm_shapes_and_formula"]
    assert m["shapes"] == {"return_sequences_true": [[3, 7, 4], [3, 20, 4]],
                           "return_sequences_false": [[3, 4], [3, 4]],
                           "stack_output": [[3, 1], [3, 1]],
                           "states": [[[3, 4], [3, 4]], [[3, 4], [3, 4]]]}
    formula = m["formula_cases"]
    assert {k: v["parameters"] for k, v in formula.items()} == {
        "1->300": 362_400, "3->4": 128, "4->4": 144, "4->1": 24, "32->64": 24_832}
    assert formula["3->4"]["kernel"] == [3, 16] and formula["3->4"]["recurrent_kernel"] == [4, 16]
    assert m["each_group_4_units_wide"] and m["parameters_equal_4u_times_d_plus_u_plus_1"]
    assert m["literal_reading_group_has_4_units_parameters"] is False  # recorded, not judged
    assert m["return_states_keyword"]["raises"] == "ValueError"  # the answer's misspelling is rejected
    assert "return_states" in m["return_states_keyword"]["message"]
    assert run["verdicts"]["X16b"].verdict == "supported"


def test_x17_outputs_are_h_and_the_states_are_h_and_c(run):
    m = run["checks"]["lstm_outputs_and_states"]
    assert m["returned"] == 3 and m["outputs_shape"] == [3, 7, 5]
    assert m["state_shapes"] == [[3, 5], [3, 5]]
    assert m["last_output_minus_h_max_abs"] == 0.0, "the last output step is no longer exactly the returned h"
    assert m["prefix_h_minus_output_max_abs"] < 1e-6
    assert m["h_minus_sigmoid_o_tanh_c_max_abs"] < 1e-5, "the second state is no longer the cell state c"
    assert m["cell_state_minus_h_max_abs"] > 0.01
    assert m["keras_state_order"] == ["h", "c"]
    assert m["tf_nn_rnn_exists"] is False
    assert run["verdicts"]["X17"].verdict == "supported"


def test_x27_only_the_input_kernel_has_an_input_sized_dimension_the_recurrent_kernel_has_the_units(run):
    m = run["checks"]["recurrent_kernel_shapes"]
    shapes = {name: (c["kernel_shape"], c["recurrent_kernel_shape"], c["bias_shape"]) for name, c in m["cases"].items()}
    assert shapes == {
        "simple_rnn 300 units on (20, 1)": ([1, 300], [300, 300], [300]),
        "lstm 300 units on (20, 1)": ([1, 1200], [300, 1200], [1200]),
        "simple_rnn 64 units on (16, 16)": ([16, 64], [64, 64], [64]),
        "lstm 64 units on (16, 16)": ([16, 256], [64, 256], [256]),
    }
    for name, case in m["cases"].items():  # no case's input size coincides with a size of its kernels' units
        assert case["input_dim"] not in (case["units"], 4 * case["units"]), name
        assert case["kernel_has_input_sized_dimension"] is True, name
        assert case["recurrent_kernel_has_input_sized_dimension"] is False, name
        assert case["recurrent_kernel_rows_are_units"] is True, name
    assert m["every_kernel_has_an_input_sized_dimension"] is True
    assert m["any_recurrent_kernel_has_an_input_sized_dimension"] is False
    assert m["simple_rnn_both_kernels_have_an_input_sized_dimension"] is False
    assert m["lstm_both_kernels_have_an_input_sized_dimension"] is False
    assert run["verdicts"]["X27"].verdict == "refuted"
    assert "every recurrent kernel's first dimension is the state's size (the units): True" in run["verdicts"]["X27"].reason
