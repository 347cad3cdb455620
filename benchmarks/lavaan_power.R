# lavaan_power.R -- wall-clock timing of a Monte Carlo power study done with lavaan, for
# benchmarks/bench_power.py.
#
# Usage (from the repository root; bench_power.py writes the input file):
#   Rscript benchmarks/lavaan_power.R INPUT.json
#
# INPUT.json holds: model (lavaan syntax of the analysis model), names (observed variables),
# sigma (their population covariance matrix, row-major), n (sample size), reps, seed.
# Each replication draws n cases from N(0, sigma) (MASS::mvrnorm), fits the model with
# sem() (lavaan's defaults: ML, expected information, nlminb) and reads
# parameterEstimates(): the Wald p of FA~TA, SCI~TA, SCI~FA and of the defined parameter
# `indirect` (delta method) -- the tests cbec_sem's power() makes for H1-H4.  This is the
# loop that simsem / a hand-written lavaan simulation runs.  Timed with system.time()
# (elapsed seconds, R's start-up and reading the input not counted).  Prints one line of JSON:
#   {"reps": ..., "n": ..., "elapsed_s": ..., "per_rep_s": ..., "lavaan_version": ...,
#    "converged": ..., "power": {"H1": ..., "H2": ..., "H3": ..., "H4": ...}}
# R on Debian links the single-threaded reference BLAS; the loop runs serially.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
  library(MASS)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1L) stop("usage: Rscript benchmarks/lavaan_power.R INPUT.json")
inp <- fromJSON(args[1])
p <- length(inp$names)
sigma <- matrix(unlist(inp$sigma), p, p, byrow = TRUE)
dimnames(sigma) <- list(inp$names, inp$names)
set.seed(inp$seed)

invisible(sem(inp$model, data = as.data.frame(mvrnorm(inp$n, rep(0, p), sigma))))  # warm-up
supported <- c(H1 = 0, H2 = 0, H3 = 0, H4 = 0)
converged <- 0
test <- function(pe, lhs, op, rhs) {
  row <- pe[pe$lhs == lhs & pe$op == op & pe$rhs == rhs, ]
  row$pvalue < 0.05 && row$est > 0
}
elapsed <- system.time({
  for (r in seq_len(inp$reps)) {
    data <- as.data.frame(mvrnorm(inp$n, rep(0, p), sigma))
    fit <- tryCatch(sem(inp$model, data = data), error = function(e) NULL,
                    warning = function(w) NULL)
    if (is.null(fit) || !lavInspect(fit, "converged")) next
    converged <- converged + 1
    pe <- parameterEstimates(fit)
    supported["H1"] <- supported["H1"] + test(pe, "SCI", "~", "TA")
    supported["H2"] <- supported["H2"] + test(pe, "SCI", "~", "FA")
    supported["H3"] <- supported["H3"] + test(pe, "FA", "~", "TA")
    supported["H4"] <- supported["H4"] + test(pe, "indirect", ":=", "a*b")
  }
})[["elapsed"]]

cat(toJSON(list(
  reps = inp$reps, n = inp$n, elapsed_s = elapsed, per_rep_s = elapsed / inp$reps,
  lavaan_version = as.character(packageVersion("lavaan")), converged = converged,
  power = as.list(supported / inp$reps)
), auto_unbox = TRUE, digits = NA), "\n")
