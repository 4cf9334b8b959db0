import base, { pureCodeRules } from '../../eslint.config.mjs';

export default [...base, pureCodeRules];
