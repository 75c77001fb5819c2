# R's glm on freMTPL2freq with the design of the project's built-in fremtpl2freq spec (learning/builtin.ts):
# the same caps, clips, standardizations, classes and factor levels, all rows, Poisson with offset log(Exposure).
#   Rscript scripts/r/fremtpl-glm.R ../shared/datasets/freMTPL2freq.csv.gz /tmp/fremtpl-glm-r.json [epsilon]
# epsilon defaults to glm.control()'s 1e-8; R's standard errors come from the weights of its last-but-one iterate,
# so a tighter epsilon (1e-10) gives the standard errors at the MLE itself.
# The bench (scripts/bench/glm.ts) compares its pooled fit with this file when MURMUR_GLM_R_REFERENCE names it.
args <- commandArgs(trailingOnly = TRUE)
file <- if (length(args) > 0) args[1] else "../shared/datasets/freMTPL2freq.csv.gz"
out <- if (length(args) > 1) args[2] else "/tmp/fremtpl-glm-r.json"
epsilon <- if (length(args) > 2) as.numeric(args[3]) else 1e-8
d <- read.csv(gzfile(file), stringsAsFactors = FALSE)
clip <- function(x, lo, hi) pmin(pmax(x, lo), hi)
regions <- c("Alsace", "Aquitaine", "Auvergne", "Basse-Normandie", "Bourgogne", "Bretagne", "Centre", "Champagne-Ardenne",
  "Corse", "Franche-Comte", "Haute-Normandie", "Ile-de-France", "Languedoc-Roussillon", "Limousin", "Lorraine",
  "Midi-Pyrenees", "Nord-Pas-de-Calais", "Pays-de-la-Loire", "Picardie", "Poitou-Charentes",
  "Provence-Alpes-Cotes-D'Azur", "Rhone-Alpes")
m <- data.frame(
  ClaimNb = pmin(d$ClaimNb, 4),
  Exposure = pmin(d$Exposure, 1),
  VehPower = (d$VehPower - 6.45) / 2.05,
  VehAge = (clip(d$VehAge, 0, 20) - 7.04) / 5.67,
  DrivAge = (clip(d$DrivAge, 18, 90) - 45.5) / 14.1,
  VehPowerClass = cut(d$VehPower, c(-Inf, 4, 5, 6, 7, 8, Inf)),
  VehAgeClass = cut(d$VehAge, c(-Inf, 0, 10, Inf)),
  DrivAgeClass = cut(d$DrivAge, c(-Inf, 20, 25, 30, 40, 50, 70, Inf)),
  BonusMalus = (clip(d$BonusMalus, 50, 150) - 59.8) / 15.6,
  VehBrand = factor(d$VehBrand, levels = c("B1", "B10", "B11", "B12", "B13", "B14", "B2", "B3", "B4", "B5", "B6")),
  VehGas = factor(d$VehGas, levels = c("Diesel", "Regular")),
  Area = factor(d$Area, levels = c("A", "B", "C", "D", "E", "F")),
  `log(Density)` = (log(d$Density) - 5.98) / 1.87,
  Region = factor(d$Region, levels = regions),
  check.names = FALSE)
stopifnot(!anyNA(m))
call <- "glm(ClaimNb ~ VehPower + VehAge + DrivAge + VehPowerClass + VehAgeClass + DrivAgeClass + BonusMalus + VehBrand + VehGas + Area + `log(Density)` + Region + offset(log(Exposure)), family = poisson, data = m, control = glm.control(epsilon = epsilon))"
t <- system.time(fit <- eval(parse(text = call)))
s <- summary(fit)
num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
arr <- function(x) paste0("[", paste(x, collapse = ", "), "]")
se <- rep(NA_real_, length(coef(fit))); names(se) <- names(coef(fit)); se[rownames(s$coefficients)] <- s$coefficients[, 2]
json <- paste0("{\n",
  '  "call": "', gsub('"', '\\\\"', call), '",\n',
  '  "rVersion": "', R.version.string, '",\n',
  '  "epsilon": ', num(epsilon), ',\n',
  '  "rows": ', nrow(m), ',\n',
  '  "names": ', arr(paste0('"', gsub("`", "", names(coef(fit))), '"')), ',\n',
  '  "estimate": ', arr(num(unname(coef(fit)))), ',\n',
  '  "stdError": ', arr(num(unname(se))), ',\n',
  '  "deviance": ', num(deviance(fit)), ',\n',
  '  "nullDeviance": ', num(fit$null.deviance), ',\n',
  '  "aic": ', num(fit$aic), ',\n',
  '  "iter": ', fit$iter, ',\n',
  '  "predicted": ', num(sum(fitted(fit))), ',\n',
  '  "observed": ', num(sum(m$ClaimNb)), ',\n',
  '  "seconds": ', num(t[["elapsed"]]), '\n}\n')
writeLines(json, out, sep = "")
cat("wrote", out, "in", t[["elapsed"]], "s,", fit$iter, "iterations, deviance", deviance(fit), "\n")
