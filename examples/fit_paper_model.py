"""Fit the paper's relation model to the bundled example survey and test its hypotheses.

Run it from anywhere:

    python examples/fit_paper_model.py

The example survey is synthetic: 400 cross-border e-commerce firms answering the paper's
questionnaire on 7-point Likert items, drawn from a known population model (see
``help(cs.datasets.example_survey)``).  In that population the direct path TA -> SCI is zero,
so H1 should come out "not supported"; H2-H4 are true.
"""

import cbec_sem as cs

# 1. The model: the paper's constructs (TA, FA, PC, VP, FO, IS, and SCI over VP, FO, IS),
#    the structural paths, and the hypotheses H1-H8.  print(model.to_lavaan()) shows it as
#    lavaan syntax.
model = cs.paper_model()
print(model.to_lavaan())
print()

# With your own questionnaire, map your item names onto the constructs (constructs you leave
# out keep their default items ta1-ta4, fa1-fa4, ...), and pick hypotheses by id if you like:
#
#     model = cs.paper_model(
#         items={"TA": ["q1", "q2", "q3"], "FA": ["q4", "q5", "q6"], "PC": ["q7", "q8", "q9"],
#                "VP": ["q10", "q11", "q12"], "FO": ["q13", "q14", "q15"],
#                "IS": ["q16", "q17", "q18"]},
#         hypotheses=["H1", "H2", "H3", "H4"],
#     )
#
# and read your file with cs.load_survey("my_survey.csv", scale=(1, 7), ...) below.

# 2. The data.  Name the items (the model's observed variables) so that the id and grouping
#    columns (firm_id, business_model, channel) are kept as they are and not checked as
#    answers; scale=(1, 7) lets the checks flag answers outside 1-7.
survey = cs.load_survey(
    cs.datasets.example_survey(),
    scale=(1, 7),
    items=model.observed_variables,
    id_column="firm_id",
)
print(survey.summary())  # every finding is also in survey.checks, a DataFrame
print()

# 3. The fit.  res.converged says whether the numbers can be trusted.
res = cs.fit(model, survey)
if not res.converged:
    print("The fit did not converge or is inadmissible:", res.converged.describe())

# 4. The lavaan-like report: fit measures, estimates, hypotheses.
print(res.summary())
print()

# 5. The hypotheses as a table (a DataFrame: res.hypotheses).  Hypotheses whose method is
#    Interactions and moderation are tested by product indicators, necessity by NCA.
columns = ["id", "kind", "estimate", "std.all", "ci.lower", "ci.upper", "p", "verdict"]
print(res.hypotheses[columns].round(3).to_string(index=False))

# More to look at: res.params (the parameter table), res.fit_measures (a Series with
# lavaan's names: res.fit_measures["cfi"]), res.rsquare().
