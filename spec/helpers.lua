--- Shared checks for the specs: tensor comparison and finite differences,
-- and small utilities.
local helpers = {}

--- The message of the error that f(...) raises, without its position.
function helpers.error_message(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end

--- x rounded to the nearest Float32.
function helpers.f32(x)
  return (string.unpack("f", string.pack("f", x)))
end

--- The elements of a tensor in column-major order, as a Lua array.
function helpers.flat(t)
  return t:contiguous():reshape(-1):totable()
end

--- Whether two Lua arrays hold equal values at every position.
function helpers.same_list(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

--- The number of elements of a tensor of these sizes.
function helpers.numel(sizes)
  local n = 1
  for _, s in ipairs(sizes) do n = n * s end
  return n
end

--- A fresh temporary file name, no file there yet.
function helpers.tmpfile()
  local path = os.tmpname()
  os.remove(path)
  return path
end

--- A fresh temporary directory (mktemp -d); returns its path.
function helpers.tmpdir()
  local p = io.popen("mktemp -d")
  local dir = p:read("l")
  p:close()
  return dir
end

--- Whether a file can be opened for reading at path.
function helpers.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- s quoted for the shell, between single quotes.
function helpers.quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- Writes bytes to a file; returns its path.
function helpers.write_bytes(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path
end

--- The tensors of a fixture file spec/fixtures/<name>.safetensors, written
-- by one of the scripts/make-*-fixtures (which need PyTorch; the specs
-- that read the files do not).
function helpers.fixture(name)
  local core = require "cnn.core"
  return core.load_safetensors("spec/fixtures/" .. name .. ".safetensors")
end

-- The elements of a tensor or number, and its sizes (nil for a number).
local function elements(x)
  if type(x) == "number" then return {x}, nil end
  return helpers.flat(x), x:size()
end

-- Why `got` does not match the reference `want` (see
-- assert_matches_reference), or nil.
local function mismatch(what, got, want, tol)
  local rel, abs, abs_of_max = tol.rel or 0, tol.abs or 0, tol.abs_of_max or 0
  local a, sa = elements(got)
  local e, se = elements(want)
  if sa and se and not helpers.same_list(sa, se) then
    return ("%s: sizes %s, the reference's %s"):format(what, table.concat(sa, "×"), table.concat(se, "×"))
  elseif #a ~= #e then
    return ("%s: %d elements, the reference has %d"):format(what, #a, #e)
  end
  local largest = 0
  for i = 1, #e do largest = math.max(largest, math.abs(e[i])) end
  local floor = abs + abs_of_max * largest
  local worst, worst_i, max_rel = 0, 1, 0
  for i = 1, #e do
    local diff = math.abs(a[i] - e[i])
    local bound = rel * math.abs(e[i]) + floor
    local ratio = diff / bound
    if diff ~= diff or (bound == 0 and diff > 0) then ratio = math.huge elseif bound == 0 then ratio = 0 end
    if ratio > worst then worst, worst_i = ratio, i end
    if math.abs(e[i]) > floor then max_rel = math.max(max_rel, diff / math.abs(e[i])) end
  end
  if worst > 1 then
    return ("%s: element %d is %.9g, %s gives %.9g (max relative error %.3g)")
      :format(what, worst_i, a[worst_i], tol.source or "PyTorch", e[worst_i], max_rel)
  end
  return nil
end

--- Asserts that `got` (a tensor, or a number) matches the reference
-- `want` (a tensor of the same sizes, or a number or one-element tensor)
-- element by element: |got - want| <= rel·|want| + abs + abs_of_max·max|want|,
-- the last an absolute floor relative to the reference's largest element
-- for elements that cancel to near zero. tol: rel, abs, abs_of_max (each
-- 0 unless given), source (who gives the reference, "PyTorch"). A NaN
-- fails. The message names the element farthest outside its tolerance.
function helpers.assert_matches_reference(what, got, want, tol)
  local msg = mismatch(what, got, want, tol)
  if msg then error(msg, 2) end
end

--- assert_matches_reference with the tolerances `tol`, as a function
-- (got, want, what): a fixture spec's one comparison.
function helpers.reference_matcher(tol)
  return function(got, want, what)
    local msg = mismatch(what, got, want, tol)
    if msg then error(msg, 2) end
  end
end

--- Whether a tensor has zeros and positive elements: a relu in the
-- case that made it cuts some outputs, not all.
function helpers.relu_cuts(y)
  local core = require "cnn.core"
  return core.sum(core.eq(y, 0)) > 0 and core.sum(core.gt(y, 0)) > 0
end

--- Asserts that step(), run once to create what it needs, creates no
-- oneDNN primitive in its next two runs.
function helpers.assert_no_new_primitives(step)
  local core = require "cnn.core"
  step()
  local created = core.stats().primitives_created
  step()
  step()
  assert(created == core.stats().primitives_created,
    ("%d primitives created after the first step"):format(core.stats().primitives_created - created))
end

--- Asserts that two tensors have the same sizes and agree elementwise
-- within |a - b| <= atol + rtol * |b|.
function helpers.assert_tensor_near(actual, expected, rtol, atol)
  rtol, atol = rtol or 1e-5, atol or 1e-6
  local sa, se = actual:size(), expected:size()
  assert(#sa == #se, ("ndims differ: %d and %d"):format(#sa, #se))
  for d = 1, #sa do
    assert(sa[d] == se[d], ("size of dimension %d differs: %d and %d"):format(d, sa[d], se[d]))
  end
  local a, e = actual:contiguous():reshape(-1):totable(), expected:contiguous():reshape(-1):totable()
  for i = 1, #a do
    local tol = atol + rtol * math.abs(e[i])
    if math.abs(a[i] - e[i]) > tol then
      error(("element %d: %.9g, expected %.9g (tolerance %.3g)"):format(i, a[i], e[i], tol), 2)
    end
  end
end

--- Checks the analytic gradient g of loss() with respect to tensor t
-- (which loss reads) against central finite differences
-- (f(x + eps) - f(x - eps)) / 2eps, computed in double precision from the
-- float32 values actually stored. opts: eps (1e-2), rtol (2e-2), atol
-- (1e-3), elements (check at most this many elements, spread over t).
-- The one finite-difference checker of the specs.
function helpers.fdcheck(what, t, g, loss, opts)
  opts = opts or {}
  local eps, rtol, atol = opts.eps or 1e-2, opts.rtol or 2e-2, opts.atol or 1e-3
  local flat = t:reshape(-1)
  local n = flat:numel()
  local ga = g:contiguous():reshape(-1):totable()
  assert(#ga == n, ("%s: gradient has %d elements, the tensor %d"):format(what, #ga, n))
  local step = math.max(1, n // (opts.elements or n))
  for i = 1, n, step do
    local v = flat:get(i)
    flat:set(i, v + eps)
    local xp, fp = flat:get(i), loss()
    flat:set(i, v - eps)
    local xm, fm = flat:get(i), loss()
    flat:set(i, v)
    local numeric = (fp - fm) / (xp - xm)
    if math.abs(ga[i] - numeric) > atol + rtol * math.abs(numeric) then
      error(("%s element %d: gradient %.7g, finite differences %.7g"):format(what, i, ga[i], numeric), 3)
    end
  end
end

--- Checks the gradients that cnn.gradient gives for f(inputs...) against
-- finite differences (see fdcheck).
-- f takes the inputs as arguments and returns a number or a 1-element
-- tensor. opts: eps (1e-2), rtol (2e-2), atol (1e-3), elements (check at
-- most this many elements of each input, spread over it), skip (set of
-- input positions not to check).
function helpers.gradcheck(f, inputs, opts)
  local cnn = require "cnn"
  opts = opts or {}
  local skip = opts.skip or {}
  local grads = table.pack(cnn.gradient(f, table.unpack(inputs)))
  local function value()
    return cnn.item(f(table.unpack(inputs)))
  end
  for k, x in ipairs(inputs) do
    if getmetatable(x) == cnn.core.Tensor and not skip[k] then
      assert(grads[k] ~= nil, ("input %d: no gradient"):format(k))
      helpers.fdcheck("input " .. k, x, grads[k], value, opts)
    end
  end
  return grads
end

--- Deterministic values in ±[0.2, 1.2) (away from the kinks of relu, abs
-- and max pooling; in [0.2, 1.2) when `positive`), of these sizes, from a
-- small linear congruential generator started at `seed`.
function helpers.smooth_data(sizes, seed, positive)
  local core = require "cnn.core"
  local state = seed or 1
  local v = {}
  for i = 1, helpers.numel(sizes) do
    state = (state * 1103515245 + 12345) % 2147483648
    local m = 0.2 + state / 2147483648
    if not positive and (state // 65536) % 2 == 1 then m = -m end
    v[i] = m
  end
  return core.reshape(core.tensor(v), sizes)
end

--- A weighted sum of all elements of y, so that no gradient is trivially
-- zero (the plain sum of a softmax is constant).
function helpers.wsum(y)
  local cnn = require "cnn"
  return cnn.sum(y * helpers.smooth_data(y:size(), 99))
end

--- The notebook's model, with cnn.flatten in place of the notebook's
-- anonymous reshape so that it prints the same everywhere.
function helpers.notebook_model()
  local cnn = require "cnn"
  return cnn.Chain(
    cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
    cnn.Conv({3, 3}, 16, 32, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
    cnn.Conv({3, 3}, 32, 32, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
    cnn.flatten, cnn.Dense(288, 10), cnn.softmax)
end

return helpers
