-- Blocked layouts: a convolution leaves its result in the layout oneDNN
-- chose (e.g. nChw16c); pooling, eltwise and the convolution backwards take
-- it as it is; anything that looks at elements, reshapes or views it sees
-- the plain tensor, converted in place.
local core = require "cnn.core"
local helpers = require "helpers"

local data = helpers.smooth_data

-- Naive cross-correlation with padding 1 of x W×H×C×N and w 3×3×C×K.
local function naive_conv(x, w)
  local W, H, C, N = x:size(1), x:size(2), x:size(3), x:size(4)
  local K = w:size(4)
  local xs, ws = x:totable(), w:totable()
  local y = core.zeros(W, H, K, N)
  for n = 1, N do
    for k = 1, K do
      for j = 1, H do
        for i = 1, W do
          local s = 0
          for c = 1, C do
            for b = 1, 3 do
              for a = 1, 3 do
                local xi, xj = i + a - 2, j + b - 2
                if xi >= 1 and xi <= W and xj >= 1 and xj <= H then
                  s = s + xs[xi][xj][c][n] * ws[a][b][c][k]
                end
              end
            end
          end
          y[{i, j, k, n}] = s
        end
      end
    end
  end
  return y
end

local opts = {pad = 1}

describe("blocked layouts", function()
  local x = data({6, 5, 3, 2}, 7)
  local w = data({3, 3, 3, 16}, 11)

  it("keep a convolution's result blocked until its elements are read", function()
    local y = core.conv2d(x, w, nil, opts)
    assert.are.equal("blocked", core.layout(y))
    local reorders = core.stats().reorders
    local v = y[{2, 3, 4, 1}]
    assert.are.equal("plain", core.layout(y))
    assert.are.equal(reorders + 1, core.stats().reorders)
    assert.is_true(core.isapprox(y, naive_conv(x, w)))
    assert.are.equal(y[{2, 3, 4, 1}], v)
  end)

  it("answer size queries without converting", function()
    local y = core.conv2d(x, w, nil, opts)
    assert.are.same({6, 5, 16, 2}, y:size())
    assert.are.equal(16, y:size(3))
    assert.are.equal(4, y:ndims())
    assert.are.equal(6 * 5 * 16 * 2, y:numel())
    assert.are.equal(6 * 5 * 16 * 2, #y)
    assert.are.equal("Float32", y:dtype())
    assert.is_true(y:is_contiguous())
    assert.are.equal(y, y:contiguous())
    assert.are.equal("blocked", core.layout(y))
  end)

  it("give views of the plain tensor, so writes through them show", function()
    local y = core.conv2d(x, w, nil, opts)
    local v = y:select(4, 2)
    assert.are.equal("plain", core.layout(y))
    v[{1, 1, 1}] = 42
    assert.are.equal(42, y[{1, 1, 1, 2}])
    local r = core.conv2d(x, w, nil, opts):reshape(-1)
    assert.are.same({6 * 5 * 16 * 2}, r:size())
    assert.are.equal(y[{2, 2, 2, 1}], r[1 + 1 + 6 * (1 + 5 * 1)])
  end)

  it("print as the plain tensor does", function()
    local blocked = core.conv2d(x, w, nil, opts)
    local plain = core.conv2d(x, w, nil, opts)
    plain:get(1, 1, 1, 1)
    assert.are.equal("blocked", core.layout(blocked))
    assert.are.equal(tostring(plain), tostring(blocked))
  end)

  it("flow through pooling, eltwise and the backwards as the plain ones do", function()
    local function run(convert)
      local y = core.conv2d(x, w, nil, {pad = 1, activation = "relu"})
      if convert then y:get(1, 1, 1, 1) end
      local p, ws = core.pool2d("max", y, {window = 2})
      local gp = data(p:size(), 5)
      local gy = core.pool2d_backward("max", gp, y:size(), ws, {window = 2})
      local g = core.eltwise_backward("relu", gy, y, 0, 0)
      local gx = core.conv2d_backward_data(g, w, x:size(), opts)
      local gw = core.conv2d_backward_weights(g, x, w:size(), opts, false)
      return {core.layout(p), core.layout(gy), core.layout(g), core.layout(gx)},
             {p, gy, g, gx, gw}
    end
    local blocked_layouts, blocked = run(false)
    local plain_layouts, plain = run(true)
    assert.are.same({"blocked", "blocked", "blocked"}, {blocked_layouts[1], blocked_layouts[2], blocked_layouts[3]})
    assert.are.same({"plain", "plain", "plain"}, {plain_layouts[1], plain_layouts[2], plain_layouts[3]})
    for i = 1, #plain do
      assert.is_true(core.isapprox(plain[i], blocked[i], 1e-6), "result " .. i)
    end
  end)

  it("keep the padding of a partly filled block at zero", function()
    -- 10 channels fill part of a 16-channel block; the next convolution
    -- reads the whole block
    local w10 = data({3, 3, 3, 10}, 13)
    local w2 = data({3, 3, 10, 4}, 17)
    local h = core.conv2d(x, w10, nil, opts)
    local y = core.conv2d(h, w2, nil, opts)
    assert.is_true(core.isapprox(y, naive_conv(naive_conv(x, w10), w2), 1e-4))
  end)

  -- A convolution's result with 10 channels (part of a block) or 16, read
  -- as blocked or converted to plain first.
  local function conv_result(cout, convert)
    local y = core.conv2d(x, data({3, 3, 3, cout}, 19), nil, opts)
    if convert then y:get(1, 1, 1, 1) end
    return y
  end

  it("flow through batch normalisation, forward and backward, as the plain ones do", function()
    for _, cout in ipairs{16, 10} do
      local function run(convert)
        local y = conv_result(cout, convert)
        local g, b = data({cout}, 23), data({cout}, 29)
        local rm, rv = core.zeros(cout), core.ones(cout)
        local z, m, v = core.batchnorm(y, g, b, rm, rv, true)
        local gz = core.conv2d(z, data({3, 3, cout, 4}, 31), nil, opts) -- reads the padding
        local gx, gg, gb = core.batchnorm_backward(z, y, g, m, v)
        local zi = core.batchnorm(y, g, b, rm, rv, false)
        return {core.layout(z), core.layout(gx), core.layout(zi)}, {z, gz, gx, gg, gb, rm, rv, zi}
      end
      local blocked_layouts, blocked = run(false)
      local plain_layouts, plain = run(true)
      assert.are.same({"blocked", "blocked", "blocked"}, blocked_layouts)
      assert.are.same({"plain", "plain", "plain"}, plain_layouts)
      for i = 1, #plain do
        assert.is_true(core.isapprox(plain[i], blocked[i], 1e-5, 1e-5), cout .. " channels, result " .. i)
      end
    end
  end)

  it("flow through an inference batch normalisation in an inference convolution's layout", function()
    local w16 = data({3, 3, 3, 16}, 19)
    local y = core.conv2d(x, w16, nil, opts, false)
    local plain = core.conv2d(x, w16, nil, opts, false)
    plain:get(1, 1, 1, 1)
    local g, b, rm, rv = data({16}, 23), data({16}, 29), data({16}, 31), core.ones(16) * 0.7
    local z = core.batchnorm(y, g, b, rm, rv, false)
    assert.are.equal("blocked", core.layout(z))
    assert.is_true(core.isapprox(core.batchnorm(plain, g, b, rm, rv, false), z, 1e-5, 1e-5))
  end)

  it("reorder a plain gradient on the way into a blocked batch normalisation's backward", function()
    local y = conv_result(16, false)
    local g = data({16}, 23)
    local z, m, v = core.batchnorm(y, g, data({16}, 29), core.zeros(16), core.ones(16), true)
    local gz = data(z:size(), 37)
    local gx = core.batchnorm_backward(gz, y, g, m, v)
    local plain_y = conv_result(16, true)
    local want = core.batchnorm_backward(gz, plain_y, g, m, v)
    assert.are.equal("blocked", core.layout(gx))
    assert.is_true(core.isapprox(want, gx, 1e-5, 1e-5))
  end)

  it("add, subtract, multiply, max and min in their common layout", function()
    for _, cout in ipairs{16, 10} do
      local a, b = conv_result(cout, false), core.conv2d(x, data({3, 3, 3, cout}, 41), nil, opts)
      local pa, pb = conv_result(cout, true), core.conv2d(x, data({3, 3, 3, cout}, 41), nil, opts)
      pb:get(1, 1, 1, 1)
      local reorders = core.stats().reorders
      local results = {a + b, a - b, a * b, core.max(a, b), core.min(a, b)}
      assert.are.equal(reorders, core.stats().reorders)
      local want = {pa + pb, pa - pb, pa * pb, core.max(pa, pb), core.min(pa, pb)}
      for i, r in ipairs(results) do
        assert.are.equal("blocked", core.layout(r))
        -- the next convolution reads the padding, which stayed zero
        local next_w = data({3, 3, cout, 4}, 43)
        assert.is_true(core.isapprox(core.conv2d(want[i], next_w, nil, opts), core.conv2d(r, next_w, nil, opts),
                                     1e-5),
                       cout .. " channels, op " .. i)
        assert.is_true(core.isapprox(want[i], r), cout .. " channels, op " .. i)
      end
    end
  end)

  it("convert to plain for the other operators and for mixed layouts", function()
    local a, b = conv_result(16, false), conv_result(16, false)
    local pa = conv_result(16, true)
    local quotient = a / b
    assert.are.equal("plain", core.layout(quotient))
    assert.is_true(core.isapprox(pa / pa, quotient))
    local c, d = conv_result(16, false), conv_result(16, true)
    local sum = c + d
    assert.are.equal("plain", core.layout(sum))
    assert.is_true(core.isapprox(pa + pa, sum))
  end)

  it("still report sizes in errors", function()
    local y = core.conv2d(x, w, nil, opts)
    local w8 = data({3, 3, 8, 4}, 3)
    assert.has_error(function() core.conv2d(y, w8, nil, opts) end,
      "conv2d: input has 16 channels (6×5×16×2), weight expects 8 (3×3×8×4)")
    assert.are.equal("blocked", core.layout(y))
    assert.has_error(function() return y + core.zeros(2, 2) end,
      ".+: sizes 6×5×16×2 and 2×2 do not broadcast")
  end)

  it("can be freed", function()
    local y = core.conv2d(x, w, nil, opts)
    y:free()
    assert.has_error(function() return y[{1, 1, 1, 1}] end,
      "bad argument #1 to 'index' (attempt to use a freed tensor)")
    assert.has_error(function() core.pool2d("max", y, {window = 2}) end,
      "bad argument #2 to 'pool2d' (attempt to use a freed tensor)")
  end)
end)

describe("relu backward folded into max pooling", function()
  local cnn = require "cnn"

  -- Gradients of a loss through conv+relu then max pooling, with the relu
  -- fused into the convolution (folded into the pooling's backward) or as
  -- a separate eltwise op (not folded); `twice` also uses the convolution's
  -- output directly, so its gradient is a sum.
  local function gradients(fused, twice)
    cnn.seed(9)
    local x = core.randn(8, 8, 3, 4)
    local w, b = core.randn(3, 3, 3, 16), core.randn(16)
    local gp = core.randn(4, 4, 16, 4)
    local gs = cnn.gradient(function()
      local y
      if fused then
        y = cnn.conv2d(x, w, b, {pad = 1, activation = "relu"})
      else
        y = cnn.relu(cnn.conv2d(x, w, b, {pad = 1}))
      end
      local loss = cnn.sum(cnn.pool2d("max", y, {window = 2}) * gp)
      if twice then loss = loss + cnn.sum(y * 0.5) end
      return loss
    end, {x, w, b})
    return {gs[x], gs[w], gs[b]}
  end

  it("gives the gradients of the separate relu", function()
    local folded, separate = gradients(true, false), gradients(false, false)
    for i = 1, 3 do assert.is_true(folded[i] == separate[i], "gradient " .. i) end
  end)

  it("gives them too when the convolution's output is used twice", function()
    local folded, separate = gradients(true, true), gradients(false, true)
    for i = 1, 3 do assert.is_true(core.isapprox(folded[i], separate[i]), "gradient " .. i) end
  end)
end)
