# lavaan_fiml_time.R -- wall-clock timing of lavaan FIML fits (missing = "ml"),
# for benchmarks/bench_fiml.py.
#
# Usage (from the repository root):
#   Rscript benchmarks/lavaan_fiml_time.R <case> <reps>
# case: bfi (3 factors, 15 items, N = 2800, psych's bfi with its real missing
#       answers) | hs_mcar (HS 3-factor CFA, ~10% values missing at random)
#
# Each rep runs cfa(model, data, missing = "ml") (EM saturated model,
# estimates, observed-information standard errors) followed by fitMeasures()
# (which adds the FIML baseline and the FIML-corrected robust CFI/RMSEA);
# one untimed warm-up fit precedes the timed reps.  Prints one line of JSON:
# {"case", "reps", "median_s", "min_s", "chisq", "df"} with elapsed seconds per
# rep (proc.time(); R's start-up and the CSV read are not counted).

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2L) stop("usage: Rscript benchmarks/lavaan_fiml_time.R <bfi|hs_mcar> <reps>")
case <- args[1]
reps <- as.integer(args[2])
if (is.na(reps) || reps < 1L) stop("reps must be a positive integer")

BFI_MODEL <- "agree =~ A1 + A2 + A3 + A4 + A5
consc =~ C1 + C2 + C3 + C4 + C5
neuro =~ N1 + N2 + N3 + N4 + N5"
HS_MODEL <- "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"

spec <- switch(case,
  bfi = list(model = BFI_MODEL, data = "tests/fixtures/data/bfi.csv"),
  hs_mcar = list(model = HS_MODEL, data = "tests/fixtures/data/hs_mcar.csv"),
  stop("unknown case '", case, "' (use bfi or hs_mcar)")
)
dat <- read.csv(spec$data, stringsAsFactors = FALSE)

one_fit <- function() {
  fit <- suppressWarnings(cfa(spec$model, data = dat, missing = "ml"))
  fm <- fitMeasures(fit)
  if (!lavInspect(fit, "converged")) stop("fit did not converge")
  fm
}

fm <- one_fit()  # warm-up

elapsed <- numeric(reps)
for (r in seq_len(reps)) {
  t0 <- proc.time()[["elapsed"]]
  one_fit()
  elapsed[r] <- proc.time()[["elapsed"]] - t0
}

cat(toJSON(list(case = case, reps = reps, median_s = round(median(elapsed), 6),
                min_s = round(min(elapsed), 6), chisq = unname(fm[["chisq"]]),
                df = unname(fm[["df"]])),
           auto_unbox = TRUE, digits = NA), "\n", sep = "")
