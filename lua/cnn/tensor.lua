--- Tensor construction and the Tensor type, re-exported from cnn.core.
--
-- Tensors follow Julia: sizes fastest-varying first (column-major),
-- 1-based indices, the batch last. `t[i]` selects index i of the last
-- dimension (a view; a number for a vector), `t[{i, j}]` is one element,
-- and `print(t)` shows the tensor as Julia does.
--
-- Inside a gradient call, reading an element of a tracked tensor is
-- recorded (`t[{i, j}]` and `t:get(i, j)` give a 0-dim tensor), while
-- taking its numbers out (`item`, `totable`) or writing into it in place
-- (`set`, `fill`, `copy`, `free`, `t[i] = v`) is refused, since the
-- gradient would silently be lost or wrong.
--
-- Random numbers come from a counter-based generator: `cnn.seed(n)` makes
-- the following `rand`/`randn` calls reproducible whatever the thread
-- count, and without a call to `seed` a program starts from a fixed default
-- seed, so every run draws the same numbers.
--
-- Methods live in `cnn.Tensor.methods`; adding a function there gives every
-- tensor a new method.
--
-- Freed tensors' memory blocks of 64 KiB or more are kept for the next
-- tensor of the same size (a training step takes the same sizes every
-- time), up to an eighth of the physical memory (between 192 MiB and
-- 4 GiB), or `CNNLUA_CACHE_MB` megabytes when that environment variable is
-- set (0 keeps none). `cnn.profile` counts the blocks that came from the
-- system instead.
-- @module cnn.tensor

local core = require "cnn.core"
local elements = require "cnn.ops.elements"

-- The core reads CNNLUA_CACHE_MB itself; a value it cannot read would be
-- ignored, so it is refused here, when cnn is loaded.
local cache_mb = os.getenv("CNNLUA_CACHE_MB")
if cache_mb and cache_mb ~= "" and not (cache_mb:match("^%d+$") and tonumber(cache_mb) <= 1 << 24) then
  error(("cnn: CNNLUA_CACHE_MB is %q: give a whole number of megabytes up to %d (0 keeps no freed blocks)")
        :format(cache_mb, 1 << 24), 0)
end

return {
  --- The Tensor metatable (`cnn.Tensor.methods` holds the methods).
  -- @table Tensor
  -- @usage cnn.Tensor.methods.double = function(t) return t * 2 end
  Tensor = core.Tensor,
  --- zeros(sizes... [, dtype]): sizes as integers or one table; dtype
  -- "float32" (default) or "int32".
  -- @function zeros
  -- @param ... the sizes, then optionally the dtype
  -- @treturn Tensor a new tensor of zeros
  -- @usage local x = cnn.zeros(28, 28, 1, 64)
  -- local i = cnn.zeros({3}, "int32")
  zeros = core.zeros,
  --- ones(sizes... [, dtype]).
  -- @function ones
  -- @param ... the sizes, then optionally the dtype ("float32" by default)
  -- @treturn Tensor a new tensor of ones
  -- @usage cnn.ones(2, 3)
  ones = core.ones,
  --- fill(value, sizes... [, dtype]); fill(t, value) sets t in place
  -- (refused on a tensor tracked by a gradient call).
  -- @function fill
  -- @param ... the value and the sizes (then optionally the dtype), or a tensor and a value
  -- @treturn Tensor the new tensor, or t
  -- @usage cnn.fill(0.5, 2, 2)
  -- cnn.fill(t, 0)
  fill = elements.fill,
  --- copy(dst, src), or dst:copy(src): copies the elements of src into
  -- dst, in place, and returns dst. src must have exactly the sizes of
  -- dst (an Int32 dst takes whole numbers only); sizes that differ are an
  -- error naming both, never a silent broadcast. `fill(dst, v)` sets every
  -- element to one number; `dst[i] = v` assigns a slice with broadcasting.
  -- Refused inside a gradient call when dst or src is tracked.
  -- @function copy
  -- @tparam Tensor dst the destination
  -- @tparam Tensor src the source, of the same sizes
  -- @treturn Tensor dst
  -- @usage local w = cnn.zeros(2, 3)
  -- cnn.copy(w, cnn.ones(2, 3))
  -- w:copy(cnn.rand(2, 3))
  copy = elements.copy,
  --- rand(sizes...): uniform in [0, 1).
  -- @function rand
  -- @param ... the sizes
  -- @treturn Tensor a new Float32 tensor
  -- @usage cnn.seed(1); local u = cnn.rand(3, 3)
  rand = core.rand,
  --- randn(sizes...): standard normal.
  -- @function randn
  -- @param ... the sizes
  -- @treturn Tensor a new Float32 tensor
  -- @usage local noise = cnn.randn(10, 64) * 0.1
  randn = core.randn,
  --- seed(n): restarts the random sequence.
  -- @function seed
  -- @param n an integer
  -- @usage cnn.seed(42)
  seed = core.seed,
  --- tensor(nested_table [, dtype]): the outer table is dimension 1, so
  -- tensor{{1, 2, 3}, {4, 5, 6}} is 2×3; a number gives a 0-dim tensor.
  -- @function tensor
  -- @param t a nested table of numbers, or a number
  -- @param[opt="float32"] dtype "float32" or "int32"
  -- @treturn Tensor
  -- @usage cnn.tensor{{1, 2, 3}, {4, 5, 6}}:size() --> {2, 3}
  tensor = core.tensor,
  --- range(first, last [, step]): Julia's collect(first:step:last) as a
  -- Float32 vector.
  -- @function range
  -- @param first
  -- @param last
  -- @param[opt=1] step
  -- @treturn Tensor a Float32 vector
  -- @usage cnn.range(0, 9) -- the MNIST labels
  range = core.range,
}
