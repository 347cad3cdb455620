# lavaan_time.R -- wall-clock timing of lavaan fits, for the cbec_sem benchmarks.
#
# Usage (from the repository root):
#   Rscript benchmarks/lavaan_time.R <case> <reps>
# case: paper500 | hs_cfa | poldem
#
# Each rep runs sem() (estimates and standard errors) followed by
# fitMeasures(); one untimed warm-up fit precedes the timed reps.  Prints a
# single line of JSON: {"case": ..., "reps": ..., "median_s": ..., "min_s": ...}
# with elapsed seconds per rep (proc.time()).

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2L) {
  stop("usage: Rscript benchmarks/lavaan_time.R <paper500|hs_cfa|poldem> <reps>")
}
case <- args[1]
reps <- as.integer(args[2])
if (is.na(reps) || reps < 1L) stop("reps must be a positive integer")

HS_MODEL <- "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"

PAPER_MODEL <- "TA =~ ta1 + ta2 + ta3 + ta4
FA =~ fa1 + fa2 + fa3 + fa4
PC =~ pc1 + pc2 + pc3
VP =~ vp1 + vp2 + vp3
FO =~ fo1 + fo2 + fo3
IS =~ is1 + is2 + is3
SCI =~ VP + FO + IS
FA ~ a*TA
SCI ~ c*TA + b*FA + PC
indirect := a*b
total := c + a*b"

POLDEM_MODEL <- "ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ p1*ind60
dem65 ~ p2*ind60 + p3*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
indirect := p1*p3
total := p2 + p1*p3"

spec <- switch(case,
  paper500 = list(model = PAPER_MODEL, data = "tests/fixtures/data/paper_sim.csv"),
  hs_cfa = list(model = HS_MODEL,
                data = "src/cbec_sem/datasets/data/HolzingerSwineford1939.csv"),
  poldem = list(model = POLDEM_MODEL,
                data = "src/cbec_sem/datasets/data/PoliticalDemocracy.csv"),
  stop("unknown case '", case, "' (use paper500, hs_cfa or poldem)")
)
dat <- read.csv(spec$data, stringsAsFactors = FALSE)

one_fit <- function() {
  fit <- sem(spec$model, data = dat)
  fm <- fitMeasures(fit)
  if (!lavInspect(fit, "converged")) stop("fit did not converge")
  invisible(fm)
}

one_fit()  # warm-up

elapsed <- numeric(reps)
cpu <- numeric(reps)  # user + system seconds of this process
for (r in seq_len(reps)) {
  t0 <- proc.time()
  one_fit()
  d <- proc.time() - t0
  elapsed[r] <- d[["elapsed"]]
  cpu[r] <- d[["user.self"]] + d[["sys.self"]]
}

cat(toJSON(list(case = case, reps = reps, median_s = round(median(elapsed), 6),
                min_s = round(min(elapsed), 6), min_cpu_s = round(min(cpu), 6)),
           auto_unbox = TRUE, digits = NA), "\n", sep = "")
