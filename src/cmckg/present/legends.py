"""What each column of the analysis tables means, for the legends of the reports."""

from __future__ import annotations

COMPARISON_COLUMNS: dict[str, str] = {
    "attribute": "the quality attribute compared (the canonical name; each site's own test "
    "name maps to it)",
    "kind": "the batch kind the values belong to: drug_substance or drug_product",
    "material": "for raw-material or intermediate attributes, the material",
    "stage": "the test stage (Release, InProcess, CoA, …)",
    "unit": "the one unit all values were converted to before comparing",
    "n_ref": "number of reference lots (one value per lot: replicates averaged)",
    "mean_ref": "mean of the reference lots",
    "sd_ref": "sample standard deviation (n − 1) of the reference lots, SD_R",
    "n_test": "number of test lots",
    "mean_test": "mean of the test lots",
    "sd_test": "sample standard deviation of the test lots",
    "method": "the method that decides the verdict: quality-range, tost or tolerance-interval",
    "lower": "lower end of the range the test lots must fall in: mean_ref − k·SD_R (quality "
    "range, k = 3 by default) or mean_ref − k2·SD_R (tolerance interval, Howe's k2)",
    "upper": "upper end of that range: mean_ref + k·SD_R (or + k2·SD_R)",
    "inside": "fraction of test lots inside [lower, upper]; the quality range needs ≥ 0.90, "
    "the tolerance interval 1.0",
    "difference": "mean_test − mean_ref",
    "ci_low": "lower end of the 90 % confidence interval of the difference (Welch t, as in "
    "two one-sided tests at α = 0.05)",
    "ci_high": "upper end of that confidence interval",
    "margin": "the equivalence margin δ = margin factor × SD_R (1.5 by default); TOST calls "
    "the groups equivalent when the whole CI lies inside ±δ",
    "p_tost": "the larger p of the two one-sided tests; below 0.05 means equivalent",
    "verdict": "comparable / not comparable (quality range, tolerance interval), equivalent / "
    "not equivalent (TOST), or insufficient data (fewer than two reference lots or "
    "no spread)",
}

DRIVERS_COLUMNS: dict[str, str] = {
    "material": "the raw material whose lots were used upstream of the batches",
    "attribute": "the raw-material lot attribute (usually a CoA result)",
    "unit": "the unit of that attribute",
    "n": "batches with both a PQA value and a value of this attribute",
    "effect": "the correlation coefficient (Spearman ρ by default, or Pearson r)",
    "p": "the p-value of that correlation",
    "q": "the Benjamini–Hochberg false-discovery-rate adjusted p across every pair screened",
    "slope": "least-squares slope: PQA units per unit of the attribute",
    "vip": "PLS variable importance in projection (method pls only; > 1 is important)",
    "max_lots": "the most lots of this material one batch used (their mean is the batch's value)",
}
