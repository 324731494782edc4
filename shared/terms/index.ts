/** Output terms of a grant (termsHash) and the guards that enforce them. */
export * from './terms';
export * from './noise';
