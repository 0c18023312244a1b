--- Tensor construction and the Tensor type, re-exported from cnn.core.
--
-- Tensors follow Julia: sizes fastest-varying first (column-major),
-- 1-based indices, the batch last. `t[i]` selects index i of the last
-- dimension (a view; a number for a vector), `t[{i, j}]` is one element,
-- and `print(t)` shows the tensor as Julia does.
--
-- Random numbers come from a counter-based generator: `cnn.seed(n)` makes
-- the following `rand`/`randn` calls reproducible whatever the thread
-- count, and without a call to `seed` a program starts from a fixed default
-- seed, so every run draws the same numbers.
--
-- Methods live in `cnn.Tensor.methods`; adding a function there gives every
-- tensor a new method.
-- @module cnn.tensor

return function(cnn)
  local core = cnn.core
  return {
    --- The Tensor metatable (`cnn.Tensor.methods` holds the methods).
    Tensor = core.Tensor,
    --- zeros(sizes... [, dtype]): sizes as integers or one table; dtype
    -- "float32" (default) or "int32".
    zeros = core.zeros,
    --- ones(sizes... [, dtype]).
    ones = core.ones,
    --- fill(value, sizes... [, dtype]); fill(t, value) sets t in place.
    fill = core.fill,
    --- rand(sizes...): uniform in [0, 1).
    rand = core.rand,
    --- randn(sizes...): standard normal.
    randn = core.randn,
    --- seed(n): restarts the random sequence.
    seed = core.seed,
    --- tensor(nested_table [, dtype]): the outer table is dimension 1, so
    -- tensor{{1, 2, 3}, {4, 5, 6}} is 2×3; a number gives a 0-dim tensor.
    tensor = core.tensor,
    --- range(first, last [, step]): Julia's collect(first:step:last) as a
    -- Float32 vector.
    range = core.range,
  }
end
