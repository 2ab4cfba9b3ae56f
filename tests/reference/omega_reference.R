# Reference values for omega total in tests/test_stats.py, computed in R with psych.
#
# Run from this folder:  Rscript omega_reference.R > omega_reference.out
# Needs R with psych and jsonlite (Debian: apt-get install r-base-core r-cran-psych r-cran-jsonlite).
# The tests read the stored files (omega_scales.csv, bfi_scales.csv, omega_reference.json); CI does not run R.
#
# What is checked (psych::omega(x, nfactors = 1)$omega.tot: one-factor minres solution on the
# pairwise correlation matrix; psych flips negatively loading items, flip = TRUE by default):
# 1. bfi agreeableness A1-A5 as published, A1 NOT reversed (a forgotten reverse key): psych flips
#    A1 and gets the omega of the keyed scale; psych's key names the flipped item.
# 2. bfi conscientiousness C1-C5 with C4, C5 NOT reversed (two forgotten keys).
# 3. omega_scales.csv (synthetic, set.seed(11)): 300 people, scale "weak" with four items loading
#    .7 and one item loading about .03 (its communality is below 0.005, where an earlier version
#    of the toolkit floored communalities; psych does not), with 5 % missing answers at random.
# 4. the same synthetic data, scale "mixed": items 1-3 load positively, items 4-5 negatively.
suppressMessages(library(psych))
suppressMessages(library(jsonlite))
options(digits = 15, warn = -1)
out <- list()

om <- function(x) {
  o <- omega(x, nfactors = 1, plot = FALSE)
  list(omega_tot = o$omega.tot, key = unname(o$key), loadings = unname(o$schmid$sl[, 1]),
       n = nrow(x), items = colnames(x))
}

bfi_raw <- read.csv("bfi_scales.csv")
out$bfi_a_unkeyed <- om(bfi_raw[, paste0("A", 1:5)])
out$bfi_c_unkeyed <- om(bfi_raw[, paste0("C", 1:5)])

set.seed(11)
n <- 300
f <- rnorm(n)
item <- function(l) pmin(5, pmax(1, round(3 + 1.2 * (l * f + sqrt(1 - l^2) * rnorm(n)))))
weak <- sapply(c(.7, .7, .7, .7, .03), item)
mixed <- sapply(c(.75, .7, .65, -.6, -.55), item)
colnames(weak) <- paste0("W", 1:5)
colnames(mixed) <- paste0("M", 1:5)
syn <- data.frame(id = sprintf("P%03d", 1:n), weak, mixed)
for (col in c(colnames(weak), colnames(mixed))) syn[runif(n) < .05, col] <- NA
write.csv(syn, "omega_scales.csv", row.names = FALSE, na = "")
out$weak <- om(syn[, colnames(weak)])
out$mixed <- om(syn[, colnames(mixed)])

for (name in names(out)) cat(name, "omega.tot:", out[[name]]$omega_tot, "key:", out[[name]]$key,
                             "loadings:", round(out[[name]]$loadings, 4), "\n")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE), "omega_reference.json")
cat("R", R.version.string, "psych", as.character(packageVersion("psych")), "\n")
