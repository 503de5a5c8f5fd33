import { sessionPair } from '../../src/index.js';
import { scenarioSuite } from './scenarios.js';

scenarioSuite('sessionPair', async (optionsA, optionsB) => {
  const [a, b] = sessionPair(optionsA, optionsB ?? optionsA);
  return { a, b, cleanup: async () => {} };
});
