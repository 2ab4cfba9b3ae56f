# Reference values for tests/test_stakeholders.py, computed independently in R.
#
# Run from this folder:  Rscript stakeholders_psych.R > stakeholders_psych.out
# Needs R with the psych package (Debian: apt-get install r-base-core r-cran-psych).
# The tests read the stored output (stakeholders_psych.out); CI does not run R.
#
# 1. Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing
#    rater reliability. Psychological Bulletin 86(2), 420-428. Table 2: 6 targets x 4 judges.
#    Published: ICC(2,1) = .29, ICC(2,k=4) = .62 (also ICC(1,1) = .17, ICC(3,1) = .71).
# 2. stakeholder_ratings.csv: a small synthetic tidy set (5 raters x 8 stakeholders x 8 roles)
#    with one "cannot assess" code (0 on the influence scale) and one omitted rating.
#    Per stakeholder x role: n, median, mean, quartiles (type 7), IQR, SD, and
#    r_wg = 1 - s^2 / ((A^2 - 1) / 12)  (James, Demaree & Wolf 1984), truncated to [0, 1].
#    Per role: psych::ICC over stakeholders (targets) x raters, incomplete stakeholders dropped
#    (psych's default listwise deletion).
suppressMessages(library(psych))
options(digits = 15)

sf <- matrix(c(9, 2, 5, 8,
               6, 1, 3, 2,
               8, 4, 6, 8,
               7, 1, 2, 6,
               10, 5, 6, 9,
               6, 2, 4, 7), ncol = 4, byrow = TRUE)
r <- ICC(sf, lmer = FALSE)$results
cat(sprintf("icc,shrout_fleiss,%s,%.15f\n", c("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"), r$ICC), sep = "")

d <- read.csv("stakeholder_ratings.csv", stringsAsFactors = FALSE)
missing_zero <- c("influence", "interest", "legitimacy", "urgency")
d$value[d$role %in% missing_zero & d$value == 0] <- NA
options_n <- c(influence = 5, interest = 5, attitude = 5, legitimacy = 5, urgency = 5,
               engagement_current = 5, engagement_desired = 5, confidence = 3)
for (key in unique(paste(d$role, d$stakeholder, sep = "|"))) {
  parts <- strsplit(key, "|", fixed = TRUE)[[1]]
  x <- d$value[d$role == parts[1] & d$stakeholder == parts[2]]
  x <- x[!is.na(x)]
  q <- quantile(x, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
  A <- options_n[[parts[1]]]
  rwg <- if (length(x) >= 2) max(0, min(1, 1 - var(x) / ((A^2 - 1) / 12))) else NA
  cat(sprintf("agg,%s,%s,%d,%.15f,%.15f,%.15f,%.15f,%.15f,%.15f,%.15f\n", parts[2], parts[1], length(x),
              q[2], mean(x), q[1], q[3], q[3] - q[1], sd(x), rwg))
}
for (role in unique(d$role)) {
  sub <- d[d$role == role, ]
  w <- reshape(sub[, c("stakeholder", "rater", "value")], idvar = "stakeholder", timevar = "rater", direction = "wide")
  m <- as.matrix(w[, -1])
  m <- m[complete.cases(m), , drop = FALSE]
  r <- ICC(m, lmer = FALSE)$results
  cat(sprintf("icc,%s,%s,%.15f,%d,%d\n", role, c("ICC2", "ICC2k"), r$ICC[c(2, 5)], ncol(m), nrow(m)), sep = "")
}
