// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title Algorithms
 * @notice Versioned identifiers of the encrypted algorithms the orchestrator runs: keccak256("cos.alg.<name>.v<N>").
 * A new version of an algorithm is a new id; the deploy script registers these on DataAccess.
 */
library Algorithms {
    /// Genotype and allele counts per SNP, overall and by case/control.
    bytes32 internal constant ALLELE_COUNTS = keccak256("cos.alg.allele-counts.v1");
    /// Allelic chi-square GWAS (aggregates under FHE, statistics by the owner after decryption).
    bytes32 internal constant GWAS_ALLELIC_CHISQ = keccak256("cos.alg.gwas-allelic-chisq.v1");
    /// Cochran-Armitage trend GWAS.
    bytes32 internal constant GWAS_TREND = keccak256("cos.alg.gwas-cochran-armitage-trend.v1");
    /// Cohort mean and variance of a numeric column.
    bytes32 internal constant MEAN_VARIANCE = keccak256("cos.alg.mean-variance.v1");
    /// Logistic-regression inference with a lab-supplied model.
    bytes32 internal constant LOGREG_INFERENCE = keccak256("cos.alg.logreg-inference.v1");
}
