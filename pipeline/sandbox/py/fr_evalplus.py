"""EvalPlus's oracle-path rules as pure functions: rebuilding MBPP+ inputs from JSON, and judging one output.

Where each rule comes from upstream (evalplus/evalplus at 26d6d00, 2025-10-03); the code here is our own:

- `load_inputs`: the dataset loaders read the inputs with the stdlib json module (exact big ints, NaN/Infinity as
  floats); for MBPP+ they then apply `mbpp_deserialize_inputs` in `evalplus/data/mbpp.py`, which rebuilds, by task
  number, the tuples, sets and complex numbers that JSON cannot hold. `_MBPP_RULES` below restates its id lists.
- `expected_value`: `trusted_exec` in `evalplus/gen/util/__init__.py`, called by `get_groundtruth` in
  `evalplus/evaluate.py`, keeps only `out is not None` as the expected output of the MBPP tasks listed in
  `MBPP_OUTPUT_NOT_NONE_TASKS` (their outputs, `re.Match` objects, are not data).
- `check_output` / `is_output_ok`: the body of the per-input loop of `unsafe_execute` in `evalplus/eval/__init__.py`
  (exact match, then the special oracles by entry point, then the float default of `atol` via `is_floats`, then
  type, length and `np.allclose(out, exp, rtol=1e-07, atol=atol)` when not exact and atol != 0, else exact). The
  special oracles' lists and helpers (`_surface_Area`, `_digit_distance_nums`, `_poly`) are in
  `evalplus/eval/_special_oracle.py`.

Upstream quirk kept on purpose: the float default overwrites the loop's `atol` variable, so once an input's expected
value is a float (or list/tuple/array of floats) every later input of the same run (base or plus) is judged with
atol 1e-6 too. `check_output` returns the atol to carry to the next input; `is_output_ok` is the one-input view.
"""
import json
import math

import numpy as np

# ---- MBPP+ input deserialisation (mbpp_deserialize_inputs) -------------------------------------------------------


def _tuple_each_arg(args):
    # Every argument (a list) becomes a tuple.
    return [tuple(a) for a in args]


def _tuple_items_of_each_arg(args):
    # Every argument is a list of lists; its inner lists become tuples (the argument itself stays a list).
    return [[tuple(x) for x in a] for a in args]


def _tuple_items_of_first_arg(args):
    # Upstream keeps only the first two arguments here.
    return [[tuple(x) for x in args[0]], args[1]]


def _tuple_second_arg(args):
    # Upstream keeps only the first two arguments here.
    return [args[0], tuple(args[1])]


def _tuple_first_arg(args):
    # Upstream keeps only the first two arguments here.
    return [tuple(args[0]), args[1]]


def _tuple_two_levels(args):
    # Inner lists become tuples, then each argument becomes a tuple of them.
    return [tuple(tuple(x) for x in a) for a in args]


def _tuple_first_arg_and_its_lists(args):
    # Only the first argument survives upstream: its list items become tuples, then it becomes a tuple itself.
    return [tuple(tuple(x) if isinstance(x, list) else x for x in args[0])]


def _tuple_first_of_three(args):
    return [tuple(args[0]), args[1], args[2]]


def _dict_values_to_tuples(args):
    return [{k: tuple(v) for k, v in args[0].items()}] + args[1:]


def _sets_in_first_arg(args):
    # An empty (or non-list) item becomes `{}`, an empty dict, exactly as upstream writes it.
    return [[set(x) if isinstance(x, list) and len(x) else {} for x in args[0]]]


def _float_and_complex(args):
    # Upstream yields a tuple of arguments here (serialised as strings by mbpp_serialize_inputs).
    return (float(args[0]), complex(args[1]))


def _complex_only(args):
    return [complex(args[0])]


def _all_lists_to_tuples(value):
    # Applied to the whole argument list, which becomes a tuple too.
    if isinstance(value, list):
        return tuple(_all_lists_to_tuples(v) for v in value)
    return value


_MBPP_RULES = {}
for _ids, _rule in (
    ((2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740, 744, 809), _tuple_each_arg),
    ((63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780), _tuple_items_of_each_arg),
    ((75, 413, 444, 753), _tuple_items_of_first_arg),
    ((106, 750), _tuple_second_arg),
    ((115,), _sets_in_first_arg),
    ((124,), _float_and_complex),
    ((250, 405, 446, 617, 720, 763, 808), _tuple_first_arg),
    ((259, 401, 445), _tuple_two_levels),
    ((278,), _tuple_first_arg_and_its_lists),
    ((307,), _tuple_first_of_three),
    ((722,), _dict_values_to_tuples),
    ((252,), _complex_only),
    ((580, 615, 791), _all_lists_to_tuples),
):
    for _n in _ids:
        _MBPP_RULES[_n] = _rule


def mbpp_rule_ids():
    """The MBPP task numbers that have a deserialisation rule (for tests and reports)."""
    return sorted(_MBPP_RULES)


def load_inputs(dataset, task_id, inputs_json):
    """The argument lists of a task, as EvalPlus holds them after loading: `fn(*inp)` is one call."""
    inputs = json.loads(inputs_json)
    if isinstance(inputs, dict) and not inputs:
        inputs = []  # Mbpp/793's plus_input is `{}`; iterating it upstream yields no inputs
    if not isinstance(inputs, list):
        raise ValueError("inputs must be a JSON list of argument lists, found %s" % type(inputs).__name__)
    if dataset != "mbpp":
        return inputs
    rule = _MBPP_RULES.get(int(str(task_id).split("/")[-1]))
    return inputs if rule is None else [rule(args) for args in inputs]


# ---- special oracles (evalplus/eval/_special_oracle.py) ----------------------------------------------------------

# Entry points whose outputs are compared as sets of items.
MBPP_SET_EQ = frozenset(
    ["similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly", "larg_nnum", "intersection_array", "find_dissimilar", "Diff"]
)
# Entry points whose reference returns a re.Match or None: only "is it None" is compared.
MBPP_NOT_NONE = frozenset(["check_str", "text_match_three", "text_starta_endb"])


def _pyramid_area_by_height(base_edge, height):
    # Mbpp/581's accepted reading: `height` is the pyramid's perpendicular height; the slant height follows from it.
    # The arithmetic keeps upstream's order of operations, so the rounding is the same to the last bit.
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant) / 2)


def _digit_distance_padded(num1, num2):
    # Mbpp/558's accepted reading: the shorter number is left-padded with zeros (str.zfill) before pairing digits.
    a, b = str(num1), str(num2)
    width = max(len(a), len(b))
    return sum(abs(int(x) - int(y)) for x, y in zip(a.zfill(width), b.zfill(width)))


def _poly_at(xs, x):
    # HumanEval/32's polynomial; sum() over math.pow terms as upstream, so float rounding matches.
    return sum([c * math.pow(x, i) for i, c in enumerate(xs)])


def expected_value(dataset, entry_point, ref_out):
    """What EvalPlus stores as the expected output, given what the reference returned on one input."""
    if dataset == "mbpp" and entry_point in MBPP_NOT_NONE:
        return ref_out is not None
    return ref_out


# ---- comparison (the per-input body of unsafe_execute) -----------------------------------------------------------


def _is_floats(x):
    # float (bool is not one), a non-empty list/tuple of floats only, or a float32/float64 array.
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(v, float) for v in x)
    if isinstance(x, np.ndarray):
        return x.dtype == np.float64 or x.dtype == np.float32
    return False


def check_output(dataset, task_id, entry_point, inp, out, exp, atol):
    """(ok, atol for the next input of this run). `exp` is expected_value(...) of the reference's output; `inp` is the
    argument list (upstream passes the very list the candidate was called with, so in-place changes the candidate made
    reach the 558/581/32 oracles). Special oracles are picked by entry point, as upstream; `task_id` is not consulted.
    Start each run (base, plus) with the task's atol and pass the returned one on to the next input. Any exception
    while judging means not ok, as upstream (everything sits in one try)."""
    try:
        exact = out == exp
        if dataset == "mbpp":
            if entry_point == "are_equivalent":  # Mbpp/164: any output is accepted
                exact = exact or True
            elif entry_point == "sum_div":  # Mbpp/295: 0 is accepted too
                exact = exact or out == 0
            elif entry_point == "surface_Area":  # Mbpp/581
                exact = exact or abs(out - _pyramid_area_by_height(*inp)) <= atol
            elif entry_point == "digit_distance_nums":  # Mbpp/558
                exact = exact or out == _digit_distance_padded(*inp)
            elif entry_point in MBPP_SET_EQ:  # replaces the exact match, not an alternative to it
                exact = set(out) == set(exp)
            elif entry_point in MBPP_NOT_NONE:
                # A bool output must equal the stored flag; anything else counts by whether it is None.
                exact = out == exp if isinstance(out, bool) else exp == (out is not None)
        if dataset == "humaneval" and entry_point == "find_zero":
            # HumanEval/32: only the root's quality counts; upstream skips the rest of the loop body (atol unchanged).
            return bool(abs(_poly_at(*inp, out)) <= atol), atol
    except Exception:
        return False, atol
    if atol == 0 and _is_floats(exp):
        atol = 1e-6
    try:
        if not exact and atol != 0:
            if type(out) != type(exp):  # noqa: E721 - exact type identity, as upstream
                return False, atol
            if isinstance(exp, (list, tuple)) and len(out) != len(exp):
                return False, atol
            return bool(np.allclose(out, exp, rtol=1e-07, atol=atol)), atol
        return bool(exact), atol
    except Exception:
        return False, atol


def is_output_ok(dataset, task_id, entry_point, inp, out, exp, atol):
    """One input's verdict by EvalPlus's rules (see check_output for the atol carried between inputs)."""
    return check_output(dataset, task_id, entry_point, inp, out, exp, atol)[0]
