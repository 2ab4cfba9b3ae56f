# Reference values for tests/test_stats.py (reliability, paired change, Friedman, Holm),
# computed independently in R (base R stats + psych).
#
# Run from this folder:  Rscript analysis_reference.R > analysis_reference.out
# Needs R with psych and jsonlite (Debian: apt-get install r-base-core r-cran-psych r-cran-jsonlite).
# The tests read the stored files (CSV inputs + analysis_reference.json); CI does not run R.
#
# Data sets
# 1. psych::bfi (Revelle; 2800 respondents of the SAPA project, items on a 1-6 scale).
#    Real, published data. Agreeableness A1-A5 (A1 reverse-keyed) and Conscientiousness
#    C1-C5 (C4, C5 reverse-keyed). Rows with no valid answer on a scale are dropped before
#    export (the toolkit never sees an observation without any answer), so psych's n.obs
#    (nsub) equals the toolkit's pairwise n. Missing answers stay NA.
#    -> bfi_scales.csv (columns: id, A1..A5, C1..C5; raw, NOT reversed)
# 2. datasets::sleep (Student 1908; Cushny & Peebles): extra hours of sleep for 10 patients
#    under two drugs; paired t-test and Wilcoxon (ties and one zero difference ->
#    normal approximation with continuity correction).
# 3. RoundingTimes (Hollander & Wolfe 1973, p. 140; the example of ?friedman.test):
#    22 players x 3 methods; published chi-squared = 11.143, df = 2, p = 0.003805.
# 4. change_scores.csv: synthetic dimension scores (set.seed(7)), 4 dimensions, waves t0/t1,
#    built like the toolkit's scores (means of three 1-5 items: ties and zero differences),
#    plus one continuous dimension with n = 15 (exact Wilcoxon path) and one with n = 60
#    (normal approximation without ties). Per dimension: t.test(paired = TRUE),
#    wilcox.test on the differences rounded to 9 decimals (= paired test; without the
#    rounding, floating-point noise makes R treat equal differences of means as distinct)
#    with R's defaults (exact = NULL, correct = TRUE), and
#    p.adjust(method = "holm") across the dimensions.
suppressMessages(library(psych))
suppressMessages(library(jsonlite))
options(digits = 15, warn = -1)
out <- list()

# ---------------------------------------------------------------- 1. bfi reliability
data(bfi)
keep <- rowSums(!is.na(bfi[, c(paste0("A", 1:5), paste0("C", 1:5))])) > 0
raw <- bfi[keep, c(paste0("A", 1:5), paste0("C", 1:5))]
write.csv(cbind(id = rownames(raw), raw), "bfi_scales.csv", row.names = FALSE)

rel <- function(x, keys_rev) {
  # pairwise (psych default use = "pairwise")
  n_keep <- rowSums(!is.na(x)) > 0
  x <- x[n_keep, ]
  a <- alpha(x, check.keys = TRUE)
  flipped <- x
  flipped[, keys_rev] <- 7 - flipped[, keys_rev]
  om <- omega(flipped, nfactors = 1, plot = FALSE)
  # listwise
  xl <- na.omit(x)
  al <- alpha(xl, check.keys = TRUE)
  list(
    keys = unname(unlist(a$keys)),
    n = nrow(x), raw_alpha = a$total$raw_alpha,
    feldt_lower = unname(a$feldt$lower.ci), feldt_upper = unname(a$feldt$upper.ci),
    omega_tot = om$omega.tot,
    r_drop = a$item.stats$r.drop, alpha_drop = a$alpha.drop$raw_alpha, item_n = a$item.stats$n,
    listwise_n = nrow(xl), listwise_alpha = al$total$raw_alpha,
    listwise_feldt_lower = unname(al$feldt$lower.ci), listwise_feldt_upper = unname(al$feldt$upper.ci)
  )
}
out$bfi_agreeableness <- rel(raw[, paste0("A", 1:5)], "A1")
out$bfi_conscientiousness <- rel(raw[, paste0("C", 1:5)], c("C4", "C5"))
cat("bfi agreeableness raw_alpha (check.keys):", out$bfi_agreeableness$raw_alpha, "\n")
cat("bfi agreeableness omega.tot:", out$bfi_agreeableness$omega_tot, "\n")
cat("bfi conscientiousness raw_alpha:", out$bfi_conscientiousness$raw_alpha, "\n")

# ---------------------------------------------------------------- 2. sleep (paired)
x1 <- sleep$extra[sleep$group == 1]
x2 <- sleep$extra[sleep$group == 2]
tt <- t.test(x2, x1, paired = TRUE)
wt <- wilcox.test(x2, x1, paired = TRUE)
d <- x2 - x1
out$sleep <- list(
  x_from = x1, x_to = x2, mean_diff = mean(d), ci_low = tt$conf.int[1], ci_high = tt$conf.int[2],
  t = unname(tt$statistic), p_t = tt$p.value, d_z = mean(d) / sd(d),
  V = unname(wt$statistic), p_wilcoxon = wt$p.value
)
print(tt); print(wt)

# ---------------------------------------------------------------- 3. RoundingTimes (Friedman)
RoundingTimes <- matrix(c(5.40, 5.50, 5.55, 5.85, 5.70, 5.75, 5.20, 5.60, 5.50, 5.55, 5.50, 5.40,
                          5.90, 5.85, 5.70, 5.45, 5.55, 5.60, 5.40, 5.40, 5.35, 5.45, 5.50, 5.35,
                          5.25, 5.15, 5.00, 5.85, 5.80, 5.70, 5.25, 5.20, 5.10, 5.65, 5.55, 5.45,
                          5.60, 5.35, 5.45, 5.05, 5.00, 4.95, 5.50, 5.50, 5.40, 5.45, 5.55, 5.50,
                          5.55, 5.55, 5.35, 5.45, 5.50, 5.55, 5.50, 5.45, 5.25, 5.65, 5.60, 5.40,
                          5.70, 5.65, 5.55, 6.30, 6.30, 6.25),
                        nrow = 22, byrow = TRUE)
ft <- friedman.test(RoundingTimes)
print(ft)
out$rounding_times <- list(data = RoundingTimes, chi2 = unname(ft$statistic), p = ft$p.value, n = 22)

# ---------------------------------------------------------------- 4. synthetic change scores
set.seed(7)
rows <- list()
mk <- function(dim, n, gain, kind) {
  if (kind == "items") {
    th <- rnorm(n)
    item <- function(shift) pmin(5, pmax(1, round(3 + th + shift + rnorm(n, 0, 0.8))))
    from <- (item(0) + item(0) + item(0)) / 3
    to <- (item(gain) + item(gain) + item(gain)) / 3
  } else {
    from <- rnorm(n, 3, 0.7)
    to <- from + rnorm(n, gain, 0.5)
  }
  data.frame(participant = sprintf("P%03d", seq_len(n)), dimension = dim, from = from, to = to)
}
cs <- rbind(mk("d_gain", 40, 0.5, "items"), mk("d_none", 40, 0.0, "items"),
            mk("d_small", 12, 0.4, "items"), mk("d_exact", 15, 0.3, "cont"), mk("d_large", 60, 0.2, "cont"))
write.csv(cs, "change_scores.csv", row.names = FALSE)
res <- do.call(rbind, lapply(split(cs, cs$dimension), function(g) {
  tt <- t.test(g$to, g$from, paired = TRUE)
  d <- g$to - g$from
  # paired Wilcoxon = one-sample test of the differences; rounded to 9 decimals so that
  # differences of equal means (e.g. 11/3 - 7/3 and 2 - 2/3) are ties, as in the toolkit
  wt <- wilcox.test(round(d, 9))
  data.frame(dimension = g$dimension[1], n_pairs = nrow(g), mean_diff = mean(d),
             ci_low = tt$conf.int[1], ci_high = tt$conf.int[2], t = unname(tt$statistic),
             p_t = tt$p.value, d_z = mean(d) / sd(d), w_stat = unname(wt$statistic),
             p_wilcoxon = wt$p.value, n_zero = sum(d == 0))
}))
res$p_holm <- p.adjust(res$p_t, method = "holm")
res$p_holm_wilcoxon <- p.adjust(res$p_wilcoxon, method = "holm")
print(res)
out$change <- res

# ---------------------------------------------------------------- 5. Holm on a fixed vector
p <- c(0.01, 0.04, 0.03, 0.005, 0.2, NA)
out$holm <- list(p = p, adjusted = p.adjust(p, method = "holm"))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE), "analysis_reference.json")
cat("R", R.version.string, "psych", as.character(packageVersion("psych")), "\n")
