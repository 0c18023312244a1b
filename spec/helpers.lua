--- Shared checks for the specs: tensor comparison and finite differences.
local helpers = {}

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

return helpers
