# lavaan_ordinal_time.R -- wall-clock timing of lavaan's ordinal computations, for
# benchmarks/bench_ordinal.py.
#
# Usage (from the repository root):
#   Rscript benchmarks/lavaan_ordinal_time.R <case> <reps>
# case: polychoric25 | polychoric10 | wlsmv15
#
#   polychoric25  lavCor(bfi[items25], ordered = items25)          (25 bfi items)
#   polychoric10  lavCor(bfi[items10], ordered = items10)          (A1-A5, C1-C5)
#   wlsmv15       cfa(3-factor model, ordered = items15, estimator = "WLSMV"), then
#                 fitMeasures(fit)
#
# Data: tests/fixtures/data/bfi.csv (psych's bfi, 2800 rows; listwise deletion, lavaan's
# default).  One untimed warm-up precedes the timed reps.  Prints one line of JSON:
# {"case": ..., "reps": ..., "median_s": ..., "min_s": ...} (elapsed seconds per rep).

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2L) {
  stop("usage: Rscript benchmarks/lavaan_ordinal_time.R <polychoric25|polychoric10|wlsmv15> <reps>")
}
case <- args[1]
reps <- as.integer(args[2])
if (is.na(reps) || reps < 1L) stop("reps must be a positive integer")

bfi <- read.csv("tests/fixtures/data/bfi.csv")
items25 <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5),
             paste0("O", 1:5))
items10 <- items25[1:10]
items15 <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("N", 1:5))
MODEL15 <- "agree =~ A1 + A2 + A3 + A4 + A5
consc =~ C1 + C2 + C3 + C4 + C5
neuro =~ N1 + N2 + N3 + N4 + N5"

one <- switch(case,
  polychoric25 = function() lavCor(bfi[items25], ordered = items25),
  polychoric10 = function() lavCor(bfi[items10], ordered = items10),
  wlsmv15 = function() {
    fit <- cfa(MODEL15, data = bfi, ordered = items15, estimator = "WLSMV")
    if (!lavInspect(fit, "converged")) stop("fit did not converge")
    fitMeasures(fit)
  },
  stop("unknown case '", case, "'")
)

invisible(one())  # warm-up

elapsed <- numeric(reps)
for (r in seq_len(reps)) {
  t0 <- proc.time()[["elapsed"]]
  invisible(one())
  elapsed[r] <- proc.time()[["elapsed"]] - t0
}

cat(toJSON(list(case = case, reps = reps, median_s = round(median(elapsed), 6),
                min_s = round(min(elapsed), 6)),
           auto_unbox = TRUE, digits = NA), "\n", sep = "")
