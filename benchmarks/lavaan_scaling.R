# lavaan_scaling.R -- lavaan's time for the scaling curves of benchmarks/scaling_peers.py.
#
# Usage: Rscript benchmarks/lavaan_scaling.R <jobs.json>
# jobs.json: a list of {"key", "model", "data" (a CSV path), "reps"}.  For each job: read the
# CSV (not timed), one untimed warm-up sem() + fitMeasures(), then <reps> timed ones
# (proc.time() elapsed).  Prints one JSON line: a list of {"key", "times"}.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1L) stop("usage: Rscript benchmarks/lavaan_scaling.R <jobs.json>")
jobs <- fromJSON(args[1], simplifyDataFrame = FALSE)
out <- list()
for (job in jobs) {
  d <- read.csv(job$data)
  one <- function() {
    fit <- sem(job$model, data = d)
    invisible(fitMeasures(fit))
  }
  one()
  times <- numeric(job$reps)
  for (r in seq_len(job$reps)) {
    t0 <- proc.time()[["elapsed"]]
    one()
    times[r] <- proc.time()[["elapsed"]] - t0
  }
  out[[length(out) + 1L]] <- list(key = job$key, times = times)
}
cat(toJSON(list(lavaan_version = as.character(packageVersion("lavaan")), jobs = out),
           auto_unbox = TRUE, digits = NA), "\n")
