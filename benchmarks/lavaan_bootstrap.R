# lavaan_bootstrap.R -- wall-clock timing of lavaan's nonparametric bootstrap, for
# benchmarks/bench_bootstrap.py.
#
# Usage (from the repository root):
#   Rscript benchmarks/lavaan_bootstrap.R [draws] [reps]
#
# Fits the paper's relation model (tests/fixtures/lavaan/paper_sim.json, field
# "model") to tests/fixtures/data/paper_sim.csv (N = 500) with
#   sem(model, data, se = "bootstrap", bootstrap = draws)
# and times it with system.time() (elapsed seconds; R's start-up and the CSV
# read are not counted).  One untimed warm-up fit without bootstrap comes
# first.  Prints one line of JSON:
#   {"draws": ..., "reps": ..., "elapsed_s": [...], "median_s": ..., "min_s": ...,
#    "lavaan_version": ..., "failed": ..., "params": {lhs, op, rhs, est, se, ci.lower,
#    ci.upper}}
# (params from parameterEstimates() of the last rep: bootstrap SEs and percentile
# intervals, so the benchmark can check both tools bootstrapped the same model).
# lavaan refits every draw with its default optimiser (nlminb) starting from
# the full-sample estimates; R on Debian links the single-threaded reference
# BLAS, and lavaan's bootstrap runs serially (parallel = "no", its default).

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
draws <- if (length(args) >= 1L) as.integer(args[1]) else 1000L
reps <- if (length(args) >= 2L) as.integer(args[2]) else 1L
if (is.na(draws) || draws < 1L) stop("draws must be a positive integer")
if (is.na(reps) || reps < 1L) stop("reps must be a positive integer")

model <- fromJSON("tests/fixtures/lavaan/paper_sim.json")$model
data <- read.csv("tests/fixtures/data/paper_sim.csv")

invisible(sem(model, data = data))  # warm-up
elapsed <- numeric(reps)
cpu <- numeric(reps)  # user + system seconds of this process: less disturbed by other load
for (r in seq_len(reps)) {
  set.seed(r)
  st <- system.time(
    fit <- sem(model, data = data, se = "bootstrap", bootstrap = draws)
  )
  elapsed[r] <- st[["elapsed"]]
  cpu[r] <- st[["user.self"]] + st[["sys.self"]]
}
pe <- parameterEstimates(fit)
cat(toJSON(list(draws = draws, reps = reps, elapsed_s = elapsed,
                median_s = median(elapsed), min_s = min(elapsed), min_cpu_s = min(cpu),
                lavaan_version = packageDescription("lavaan")$Version,
                failed = length(attr(lavInspect(fit, "boot"), "error.idx")),
                params = pe[, c("lhs", "op", "rhs", "est", "se", "ci.lower", "ci.upper")]),
           auto_unbox = TRUE, digits = NA, na = "null"), "\n")
