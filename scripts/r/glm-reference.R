# Reference GLM fits for test/fixtures/glm-r-reference.json, on small datasets that R ships.
#   Rscript scripts/r/glm-reference.R test/fixtures/glm-r-reference.json
# Needs R (Debian r-base-core), MASS (r-cran-mass) and statmod (r-cran-statmod) for the tweedie family.
# Every fit is run to the exact maximum-likelihood point (epsilon 1e-10; its QR tolerance min(1e-7, epsilon / 1000) still finds aliased columns) so that the fixture holds the MLE,
# and again with R's default glm.control() to record R's own iteration count.
suppressPackageStartupMessages({ library(MASS); library(statmod) })
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "test/fixtures/glm-r-reference.json"
ctl <- glm.control(epsilon = 1e-10, maxit = 100)

num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
str <- function(x) paste0('"', gsub('"', '\\\\"', x), '"')
arr <- function(x, f) paste0("[", paste(f(x), collapse = ", "), "]")
obj <- function(...) { kv <- list(...); paste0("{", paste(sprintf('"%s": %s', names(kv), unlist(kv)), collapse = ", "), "}") }

# terms: list of list(name, role = 'categorical' | 'numeric' | 'log-numeric', levels)
case <- function(name, call, data, family, power, response, terms, exposure = NULL, weight = NULL, ymap = NULL) {
  fit <- eval(parse(text = call))
  fit_default <- eval(parse(text = sub(", control = ctl", "", call, fixed = TRUE)))
  s <- summary(fit)
  cf <- coef(fit)
  tab <- matrix(NA_real_, length(cf), 4, dimnames = list(names(cf), NULL))
  tab[rownames(s$coefficients), ] <- s$coefficients
  cols <- list()
  for (v in c(response, exposure, weight, vapply(terms, function(t) t$name, ""))) {
    x <- data[[v]]
    cols[[v]] <- if (is.factor(x)) arr(as.character(x), str) else arr(as.numeric(x), num)
  }
  term_json <- vapply(terms, function(t) {
    if (t$role == "categorical") obj(name = str(t$name), role = str(t$role), levels = arr(levels(data[[t$name]]), str))
    else obj(name = str(t$name), role = str(t$role))
  }, "")
  y <- if (is.null(ymap)) "null" else str(ymap)
  obj(
    name = str(name), call = str(call), family = str(family), power = num(power),
    response = str(response), responseFrom = y,
    exposure = if (is.null(exposure)) "null" else str(exposure), weight = if (is.null(weight)) "null" else str(weight),
    terms = paste0("[", paste(term_json, collapse = ", "), "]"),
    data = paste0("{", paste(sprintf('"%s": %s', names(cols), unlist(cols)), collapse = ", "), "}"),
    names = arr(gsub("`", "", names(cf)), str),
    estimate = arr(unname(cf), num), stdError = arr(tab[, 2], num), statistic = arr(tab[, 3], num), pValue = arr(tab[, 4], num),
    deviance = num(deviance(fit)), nullDeviance = num(fit$null.deviance), dfResidual = num(fit$df.residual), dfNull = num(fit$df.null),
    aic = num(fit$aic), dispersion = num(s$dispersion), iterDefaultControl = num(fit_default$iter),
    fitted = arr(unname(fitted(fit)), num)
  )
}

insurance <- within(Insurance, { Group <- factor(Group, ordered = FALSE); Age <- factor(Age, ordered = FALSE) })
esoph2 <- within(esoph, {
  agegp <- factor(agegp, ordered = FALSE); alcgp <- factor(alcgp, ordered = FALSE); tobgp <- factor(tobgp, ordered = FALSE)
  trials <- ncases + ncontrols; prop <- ncases / trials
})
infert2 <- within(infert, { pregnancies <- spontaneous + induced })
trees2 <- trees

cases <- c(
  case("warpbreaks-poisson", "glm(breaks ~ wool + tension, family = poisson, data = warpbreaks, control = ctl)",
       warpbreaks, "poisson", NA, "breaks",
       list(list(name = "wool", role = "categorical"), list(name = "tension", role = "categorical"))),
  case("insurance-poisson-offset", "glm(Claims ~ District + Group + Age + offset(log(Holders)), family = poisson, data = insurance, control = ctl)",
       insurance, "poisson", NA, "Claims",
       list(list(name = "District", role = "categorical"), list(name = "Group", role = "categorical"), list(name = "Age", role = "categorical")),
       exposure = "Holders"),
  case("esoph-binomial-trials", "glm(cbind(ncases, ncontrols) ~ agegp + alcgp + tobgp, family = binomial, data = esoph2, control = ctl)",
       esoph2, "binomial", NA, "prop",
       list(list(name = "agegp", role = "categorical"), list(name = "alcgp", role = "categorical"), list(name = "tobgp", role = "categorical")),
       weight = "trials", ymap = "ncases / (ncases + ncontrols), prior weight ncases + ncontrols"),
  case("infert-binomial", "glm(case ~ age + parity + education + spontaneous + induced, family = binomial, data = infert2, control = ctl)",
       infert2, "binomial", NA, "case",
       list(list(name = "age", role = "numeric"), list(name = "parity", role = "numeric"), list(name = "education", role = "categorical"),
            list(name = "spontaneous", role = "numeric"), list(name = "induced", role = "numeric"))),
  case("infert-binomial-aliased", "glm(case ~ age + parity + education + spontaneous + induced + pregnancies, family = binomial, data = infert2, control = ctl)",
       infert2, "binomial", NA, "case",
       list(list(name = "age", role = "numeric"), list(name = "parity", role = "numeric"), list(name = "education", role = "categorical"),
            list(name = "spontaneous", role = "numeric"), list(name = "induced", role = "numeric"), list(name = "pregnancies", role = "numeric"))),
  case("trees-gamma-log", "glm(Volume ~ log(Girth) + log(Height), family = Gamma(link = 'log'), data = trees2, control = ctl)",
       trees2, "gamma", NA, "Volume",
       list(list(name = "Girth", role = "log-numeric"), list(name = "Height", role = "log-numeric"))),
  case("insectsprays-tweedie", "glm(count ~ spray, family = tweedie(var.power = 1.5, link.power = 0), data = InsectSprays, control = ctl)",
       InsectSprays, "tweedie", 1.5, "count",
       list(list(name = "spray", role = "categorical")))
)

json <- paste0("{\n",
  '  "about": ', str("GLM fits by R on datasets R ships, the reference for test/learning/glm-r-reference.test.ts. Each case records its R call; ctl is glm.control(epsilon = 1e-10, maxit = 100), so estimates are the exact MLE; iterDefaultControl is R's iteration count with glm.control() defaults."), ",\n",
  '  "command": ', str(paste("Rscript scripts/r/glm-reference.R", out)), ",\n",
  '  "rVersion": ', str(R.version.string), ",\n",
  '  "packages": ', obj(MASS = str(as.character(packageVersion("MASS"))), statmod = str(as.character(packageVersion("statmod")))), ",\n",
  '  "control": ', str("glm.control(epsilon = 1e-10, maxit = 100)"), ",\n",
  '  "cases": [\n    ', paste(cases, collapse = ",\n    "), "\n  ]\n}\n")
writeLines(json, out, sep = "")
cat("wrote", out, "\n")
