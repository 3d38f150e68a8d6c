import test from 'ava';
import { Context } from '../../lib/model/context.js';
import { secretFieldNames } from '../../lib/model/secret.js';

test('every key and nonce field of the model is tagged secret', (t) => {
  t.deepEqual([...secretFieldNames(Context)].sort(), ['additionalKey', 'intermediateKeys', 'key', 'ni', 'nr', 'skAi', 'skAr', 'skD', 'skEi', 'skEr', 'skPi', 'skPr'].sort());
});
