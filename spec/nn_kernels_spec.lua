-- The layer kernels of cnn.core: every forward against a naive Lua
-- reference on tiny shapes, every backward against central finite
-- differences of the forward, the primitive cache, and the errors.
local core = require "cnn.core"
local helpers = require "helpers"

local near, numel, flat = helpers.assert_tensor_near, helpers.numel, helpers.flat

-- Deterministic values in ±[0.2, 1.2) as a flat Lua array and a tensor.
local function data(sizes, seed)
  local state, v = seed, {}
  for i = 1, numel(sizes) do
    state = (state * 1103515245 + 12345) % 2147483648
    local m = 0.2 + state / 2147483648
    if (state // 65536) % 2 == 1 then m = -m end
    v[i] = m
  end
  return core.tensor(v):reshape(sizes), v
end

-- Distinct values 0.1 apart, so that a maximum never changes place under
-- a finite-difference step.
local function distinct(sizes)
  local n, v = numel(sizes), {}
  for i = 1, n do v[i] = ((i * 37) % n) * 0.1 - n * 0.05 end
  return core.tensor(v):reshape(sizes), v
end

-- 1-based column-major linear index of (i, j, k, l), all 0-based.
local function at(sizes, i, j, k, l)
  return 1 + i + sizes[1] * (j + sizes[2] * (k + sizes[3] * l))
end

local function dot(a, b)
  local x, y, s = flat(a), flat(b), 0
  for i = 1, #x do s = s + x[i] * y[i] end
  return s
end

-- helpers.fdcheck, every element, with the kernels' tighter default
-- relative tolerance of 1e-2.
local function fdcheck(what, t, g, loss, opts)
  opts = opts or {}
  helpers.fdcheck(what, t, g, loss, {eps = opts.eps, rtol = opts.rtol or 1e-2, atol = opts.atol})
end

-- Convolution options as lists: stride {w, h}, pad {wl, wh, hl, hh},
-- dilation {w, h}.
local function conv_geometry(opts)
  local stride, pad, dil = opts.stride or {1, 1}, opts.pad or {0, 0, 0, 0}, opts.dilation or {1, 1}
  if type(stride) == "number" then stride = {stride, stride} end
  if type(dil) == "number" then dil = {dil, dil} end
  if type(pad) == "number" then pad = {pad, pad, pad, pad} end
  if #pad == 2 then pad = {pad[1], pad[1], pad[2], pad[2]} end
  return stride, pad, dil
end

local function out_size(n, k, stride, lo, hi, dil)
  return (n + lo + hi - dil * (k - 1) - 1) // stride + 1
end

-- Output channel co of group co // (Cout/g) reads the ws[3] input
-- channels of that group.
local function naive_conv(x, w, b, opts)
  local xs, ws = x:size(), w:size()
  local xv, wv, bv = flat(x), flat(w), b and flat(b)
  local stride, pad, dil = conv_geometry(opts)
  local per_group = ws[4] // (opts.groups or 1)
  local ys = {out_size(xs[1], ws[1], stride[1], pad[1], pad[2], dil[1]),
              out_size(xs[2], ws[2], stride[2], pad[3], pad[4], dil[2]), ws[4], xs[4]}
  local yv = {}
  for n = 0, ys[4] - 1 do
    for co = 0, ys[3] - 1 do
      for oh = 0, ys[2] - 1 do
        for ow = 0, ys[1] - 1 do
          local acc = bv and bv[co + 1] or 0
          for ci = 0, ws[3] - 1 do
            for kh = 0, ws[2] - 1 do
              for kw = 0, ws[1] - 1 do
                local ih = oh * stride[2] - pad[3] + kh * dil[2]
                local iw = ow * stride[1] - pad[1] + kw * dil[1]
                if ih >= 0 and ih < xs[2] and iw >= 0 and iw < xs[1] then
                  local xc = co // per_group * ws[3] + ci
                  acc = acc + xv[at(xs, iw, ih, xc, n)] * wv[at(ws, kw, kh, ci, co)]
                end
              end
            end
          end
          if opts.activation == "relu" and acc < 0 then acc = 0 end
          yv[at(ys, ow, oh, co, n)] = acc
        end
      end
    end
  end
  return core.tensor(yv):reshape(ys)
end

local function naive_pool(kind, x, opts)
  local xs, xv = x:size(), flat(x)
  local win = opts.window
  local stride = opts.stride or win
  local pad = opts.pad or {0, 0, 0, 0}
  local ys = {out_size(xs[1], win[1], stride[1], pad[1], pad[2], 1),
              out_size(xs[2], win[2], stride[2], pad[3], pad[4], 1), xs[3], xs[4]}
  local yv = {}
  for n = 0, ys[4] - 1 do
    for c = 0, ys[3] - 1 do
      for oh = 0, ys[2] - 1 do
        for ow = 0, ys[1] - 1 do
          local best, sum = -math.huge, 0
          for kh = 0, win[2] - 1 do
            for kw = 0, win[1] - 1 do
              local ih, iw = oh * stride[2] - pad[3] + kh, ow * stride[1] - pad[1] + kw
              if ih >= 0 and ih < xs[2] and iw >= 0 and iw < xs[1] then
                local v = xv[at(xs, iw, ih, c, n)]
                best, sum = math.max(best, v), sum + v
              end
            end
          end
          yv[at(ys, ow, oh, c, n)] = kind == "max" and best or sum / (win[1] * win[2])
        end
      end
    end
  end
  return core.tensor(yv):reshape(ys)
end

-- Max pooling's values and input gradient (for output gradient gy) as the
-- core defines them with NaN: a window holding a NaN gives NaN and sends
-- its gradient to its first NaN, else to its first maximum; windows are
-- read row by row.
local function naive_max_pool(x, opts, gy)
  local xs, xv, gv = x:size(), flat(x), flat(gy)
  local win, stride, pad = opts.window, opts.stride or opts.window, opts.pad or {0, 0, 0, 0}
  local ys = gy:size()
  local yv, gx = {}, {}
  for i = 1, #xv do gx[i] = 0 end
  for n = 0, ys[4] - 1 do
    for c = 0, ys[3] - 1 do
      for oh = 0, ys[2] - 1 do
        for ow = 0, ys[1] - 1 do
          local best, where = -math.huge, nil
          for kh = 0, win[2] - 1 do
            for kw = 0, win[1] - 1 do
              local ih, iw = oh * stride[2] - pad[3] + kh, ow * stride[1] - pad[1] + kw
              if ih >= 0 and ih < xs[2] and iw >= 0 and iw < xs[1] then
                local i = at(xs, iw, ih, c, n)
                local v = xv[i]
                if where == nil or v > best or (v ~= v and best == best) then best, where = v, i end
              end
            end
          end
          local o = at(ys, ow, oh, c, n)
          yv[o] = best
          gx[where] = gx[where] + gv[o]
        end
      end
    end
  end
  return core.tensor(yv):reshape(ys), core.tensor(gx):reshape(xs)
end

local conv_variants = {
  {name = "plain", w = {3, 3, 2, 3}, opts = {}},
  {name = "padded", w = {3, 3, 2, 3}, opts = {pad = 1}},
  {name = "asymmetric padding and stride", w = {3, 2, 2, 4}, opts = {pad = {1, 0, 0, 1}, stride = {2, 1}}},
  {name = "dilated", w = {2, 2, 2, 3}, opts = {dilation = {2, 1}, pad = {1, 1}}},
  {name = "relu", w = {3, 3, 2, 3}, opts = {pad = 1, activation = "relu"}},
  {name = "2 groups", c = 4, w = {3, 3, 2, 6}, opts = {pad = 1, groups = 2}},
  {name = "depthwise, strided and dilated", c = 3, w = {3, 2, 1, 3},
   opts = {pad = {1, 2, 1, 0}, stride = {2, 1}, dilation = {1, 2}, groups = 3}},
  {name = "depthwise, 2 outputs per channel", c = 2, w = {2, 3, 1, 4}, opts = {stride = 2, groups = 2}},
  {name = "depthwise with relu", c = 3, w = {3, 3, 1, 3}, opts = {pad = 1, groups = 3, activation = "relu"}},
}

describe("conv2d", function()
  for _, case in ipairs(conv_variants) do
    it("matches a naive cross-correlation: " .. case.name, function()
      local x = data({5, 4, case.c or 2, 2}, 1)
      local w = data(case.w, 2)
      local b = data({case.w[4]}, 3)
      near(core.conv2d(x, w, b, case.opts), naive_conv(x, w, b, case.opts), 1e-5, 1e-5)
      near(core.conv2d(x, w, nil, case.opts), naive_conv(x, w, nil, case.opts), 1e-5, 1e-5)
    end)
  end

  for _, case in ipairs(conv_variants) do
    if not case.opts.activation then
      it("backward agrees with finite differences: " .. case.name, function()
        local x = data({5, 4, case.c or 2, 2}, 4)
        local w = data(case.w, 5)
        local b = data({case.w[4]}, 6)
        local r = data(core.conv2d(x, w, b, case.opts):size(), 7)
        local function loss() return dot(core.conv2d(x, w, b, case.opts), r) end
        local gx = core.conv2d_backward_data(r, w, x:size(), case.opts)
        local gw, gb = core.conv2d_backward_weights(r, x, w:size(), case.opts, true)
        fdcheck("gx", x, gx, loss)
        fdcheck("gw", w, gw, loss)
        fdcheck("gb", b, gb, loss)
      end)
    end
  end

  it("gives no bias gradient unless asked", function()
    local x = data({5, 4, 2, 1}, 1)
    local gy = data({3, 2, 2, 1}, 3)
    local gw, gb = core.conv2d_backward_weights(gy, x, {3, 3, 2, 2}, {}, false)
    assert.are.same({3, 3, 2, 2}, gw:size())
    assert.is_nil(gb)
  end)

  it("reads views with gaps as their elements", function()
    local big = data({5, 4, 2, 3}, 8)
    local x = big:narrow(4, 2, 2)
    local w = data({3, 3, 2, 2}, 9)
    near(core.conv2d(x, w, nil, {}), core.conv2d(x:clone(), w, nil, {}), 0, 0)
  end)

  it("creates its primitives once per shape", function()
    local x, w, b = data({6, 5, 3, 2}, 1), data({3, 3, 3, 4}, 2), data({4}, 3)
    local opts = {pad = 1, activation = "relu"}
    local function step()
      local y = core.conv2d(x, w, b, opts)
      core.conv2d_backward_data(y, w, x:size(), opts)
      core.conv2d_backward_weights(y, x, w:size(), opts, true)
    end
    step()
    local before = core.stats().primitives_created
    step()
    step()
    assert.are.equal(before, core.stats().primitives_created)
    core.conv2d(x, w, b, {pad = 1})
    assert.is_true(core.stats().primitives_created > before)
  end)

  it("names both shapes when channels differ", function()
    assert.has_error(function()
      core.conv2d(core.ones(28, 28, 3, 4), core.ones(3, 3, 1, 16), nil, {})
    end, "conv2d: input has 3 channels (28×28×3×4), weight expects 1 (3×3×1×16)")
  end)

  it("names the sizes and groups when channels do not split into groups", function()
    local x = core.ones(8, 8, 6, 2)
    assert.has_error(function() core.conv2d(x, core.ones(3, 3, 1, 6), nil, {groups = 4}) end,
      "conv2d: input has 6 channels (8×8×6×2), not divisible by 4 groups")
    assert.has_error(function() core.conv2d(x, core.ones(3, 3, 2, 6), nil, {groups = 2}) end,
      "conv2d: input has 6 channels (8×8×6×2) in 2 groups of 3, weight expects 2 per group (3×3×2×6)")
    assert.has_error(function() core.conv2d(x, core.ones(3, 3, 2, 4), nil, {groups = 3}) end,
      "conv2d: weight has 4 output channels (3×3×2×4), not divisible by 3 groups")
    assert.has_error(function()
      core.conv2d_backward_data(core.ones(6, 6, 4, 2), core.ones(3, 3, 2, 4), {8, 8, 6, 2}, {groups = 3})
    end, "conv2d_backward_data: weight has 4 output channels (3×3×2×4), not divisible by 3 groups")
    assert.has_error(function()
      core.conv2d_backward_weights(core.ones(6, 6, 6, 2), x, {3, 3, 3, 6}, {groups = 3}, true)
    end, "conv2d_backward_weights: input has 6 channels (8×8×6×2) in 3 groups of 2, "
      .. "weight expects 3 per group (3×3×3×6)")
  end)

  it("rejects groups that are not an integer at least 1", function()
    local x, w = core.ones(5, 5, 2, 1), core.ones(3, 3, 1, 2)
    for _, case in ipairs{{0, "0"}, {-2, "-2"}, {1.5, "1.5"}, {"2", "string"}, {true, "boolean"}} do
      assert.has_error(function() core.conv2d(x, w, nil, {groups = case[1]}) end,
        "conv2d: groups must be an integer at least 1, got " .. case[2])
    end
    assert.has_error(function()
      core.conv2d_backward_data(core.ones(3, 3, 2, 1), w, {5, 5, 2, 1}, {groups = 0})
    end, "conv2d_backward_data: groups must be an integer at least 1, got 0")
    -- 2.0 is the integer 2, as for the other options
    assert.are.same({3, 3, 2, 1}, core.conv2d(x, w, nil, {groups = 2.0}):size())
  end)

  it("rejects a window larger than the padded input", function()
    assert.has_error(function()
      core.conv2d(core.ones(2, 2, 1, 1), core.ones(3, 3, 1, 1), nil, {})
    end, "conv2d: window 3×3 (dilated 3×3) is larger than the padded input 2×2 (input 2×2×1×1, weight 3×3×1×1)")
    assert.has_error(function()
      core.conv2d(core.ones(4, 4, 1, 1), core.ones(2, 2, 1, 1), nil, {dilation = 4})
    end, "conv2d: window 2×2 (dilated 5×5) is larger than the padded input 4×4 (input 4×4×1×1, weight 2×2×1×1)")
  end)

  it("rejects bad options and operands", function()
    local x, w = core.ones(5, 5, 1, 1), core.ones(3, 3, 1, 2)
    assert.has_error(function() core.conv2d(x, w, nil, {stride = 0}) end,
      "conv2d: stride must be at least 1, got 0×0 (input 5×5×1×1, weight 3×3×1×2)")
    assert.has_error(function() core.conv2d(x, w, nil, {pad = -1}) end,
      "conv2d: padding must be non-negative, got -1,-1,-1,-1 (input 5×5×1×1, weight 3×3×1×2)")
    assert.has_error(function() core.conv2d(x, w, nil, {pad = {1, 2, 3}}) end,
      "conv2d: pad must be an integer or a table of 2 or 4 integers")
    assert.has_error(function() core.conv2d(x, w, nil, {activation = "gelu"}) end,
      'conv2d: activation must be "relu", "tanh", "sigmoid" or nil, got gelu')
    assert.has_error(function() core.deconv2d(x, w, nil, {activation = "tanh"}) end,
      'deconv2d: activation must be "relu" or nil, got tanh')
    assert.has_error(function() core.conv2d(x, w, core.ones(3), {}) end,
      "conv2d: bias is 3, weight has 2 output channels (3×3×1×2)")
    assert.has_error(function() core.conv2d(core.ones(5, 5, 1), w, nil, {}) end,
      "conv2d: input must be 4-D (W×H×C×N), got 5×5×1")
    assert.has_error(function() core.conv2d(x:int(), w, nil, {}) end)
    assert.has_error(function() core.conv2d(x, "w", nil, {}) end)
  end)

  it("checks the gradient's sizes in the backward", function()
    local w = core.ones(3, 3, 1, 2)
    assert.has_error(function()
      core.conv2d_backward_data(core.ones(3, 3, 2, 1), w, {5, 4, 1, 1}, {})
    end, "conv2d_backward_data: gradient is 3×3×2×1, output of input 5×4×1×1 and weight 3×3×1×2 is 3×2×2×1")
    assert.has_error(function()
      core.conv2d_backward_weights(core.ones(3, 3, 2, 1), core.ones(5, 4, 1, 1), {3, 3, 1, 2}, {}, true)
    end, "conv2d_backward_weights: gradient is 3×3×2×1, output of input 5×4×1×1 and weight 3×3×1×2 is 3×2×2×1")
  end)

  it("fails cleanly on a freed input", function()
    local x = core.ones(5, 5, 1, 1)
    x:free()
    assert.has_error(function() core.conv2d(x, core.ones(3, 3, 1, 1), nil, {}) end,
      "bad argument #1 to 'conv2d' (attempt to use a freed tensor)")
  end)
end)

local pool_variants = {
  {name = "2×2", opts = {window = {2, 2}}},
  {name = "padded", opts = {window = {2, 2}, pad = {1, 1, 0, 1}}},
  {name = "overlapping 3×2 with stride 1×2", opts = {window = {3, 2}, stride = {1, 2}, pad = {0, 0, 1, 0}}},
}

describe("pool2d", function()
  for _, kind in ipairs{"max", "mean"} do
    for _, case in ipairs(pool_variants) do
      it(kind .. " matches a naive reference: " .. case.name, function()
        local x = data({5, 4, 2, 2}, 11)
        local y = core.pool2d(kind, x, case.opts)
        near(y, naive_pool(kind, x, case.opts), 1e-6, 1e-6)
      end)

      it(kind .. " backward agrees with finite differences: " .. case.name, function()
        local x = distinct({5, 4, 2, 2})
        local y, ws = core.pool2d(kind, x, case.opts)
        local r = data(y:size(), 12)
        local gx = core.pool2d_backward(kind, r, x:size(), ws, case.opts)
        fdcheck("gx", x, gx, function() return dot(core.pool2d(kind, x, case.opts), r) end)
      end)
    end
  end

  it("returns a workspace for max pooling only", function()
    local x = data({4, 4, 1, 1}, 1)
    local _, ws = core.pool2d("max", x, {window = {2, 2}})
    assert.are.equal("userdata", type(ws))
    assert.matches("^PoolWorkspace%(max 2×2 window over 4×4×1×1", tostring(ws))
    local _, none = core.pool2d("mean", x, {window = {2, 2}})
    assert.is_nil(none)
  end)

  it("refuses a missing or foreign workspace", function()
    local x = data({4, 4, 1, 1}, 1)
    local y = core.pool2d("max", x, {window = {2, 2}})
    local _, other = core.pool2d("max", data({6, 4, 1, 1}, 2), {window = {2, 2}})
    local opts = {window = {2, 2}}
    assert.has_error(function() core.pool2d_backward("max", y, {4, 4, 1, 1}, nil, opts) end,
      "pool2d_backward: max pooling needs the workspace returned by pool2d (argument #4 is nil)")
    assert.has_error(function() core.pool2d_backward("max", y, {4, 4, 1, 1}, x, opts) end,
      "pool2d_backward: max pooling needs the workspace returned by pool2d (argument #4 is cnn.Tensor)")
    assert.has_error(function() core.pool2d_backward("max", y, {4, 4, 1, 1}, other, opts) end,
      "pool2d_backward: workspace is from a max pooling of 6×4×1×1, window 2×2, stride 2×2, pad 0,0,0,0, "
      .. "not a max pooling of 4×4×1×1, window 2×2, stride 2×2, pad 0,0,0,0")
  end)

  it("checks sizes and options", function()
    local x = core.ones(4, 4, 1, 1)
    assert.has_error(function() core.pool2d("max", x, {window = {5, 2}}) end,
      "pool2d: window 5×2 (dilated 5×2) is larger than the padded input 4×4 (input 4×4×1×1)")
    assert.has_error(function() core.pool2d("max", x, {window = {2, 2}, pad = 2}) end,
      "pool2d: padding 2,2,2,2 must be smaller than the window 2×2")
    assert.has_error(function() core.pool2d("max", x, {}) end, "pool2d: opts.window is required")
    assert.has_error(function() core.pool2d("avg", x, {window = 2}) end)
    assert.has_error(function()
      core.pool2d_backward("mean", core.ones(3, 2, 1, 1), {4, 4, 1, 1}, nil, {window = 2})
    end, "pool2d_backward: gradient is 3×2×1×1, output of input 4×4×1×1 is 2×2×1×1")
  end)

  -- The elements as text, where a NaN equals a NaN.
  local function texts(t)
    local v = flat(t)
    for i = 1, #v do v[i] = tostring(v[i]) end
    return v
  end

  -- An inference convolution writes its result in a layout of its own
  -- (channels next to each other, or blocked by 8 or 16), which max
  -- pooling reads as it is: values, NaN and gradients as from a plain copy.
  for _, channels in ipairs{3, 16, 32, 40} do
    for _, case in ipairs(pool_variants) do
      it("max reads a convolution's layout with " .. channels .. " channels: " .. case.name, function()
        local x = data({8, 6, 2, 3}, 21)
        local y = core.conv2d(x, data({3, 3, 2, channels}, 22), nil, {pad = 1}, false)
        assert.are.equal("blocked", core.layout(y))
        -- a NaN in one pixel, spread over every channel by a 1×1 convolution
        local poisoned = core.tensor(flat(core.contiguous(y))):reshape(y:size())
        poisoned[{2, 3, channels, 2}] = 0 / 0
        local nan = core.conv2d(poisoned, core.ones(1, 1, channels, channels), nil, {}, false)
        for _, input in ipairs{y, nan} do
          local z, ws = core.pool2d("max", input, case.opts, true)
          local gy = data(z:size(), 23)
          local gx = core.pool2d_backward("max", gy, input:size(), ws, case.opts)
          local rz, rgx = naive_max_pool(core.contiguous(input), case.opts, gy)
          assert.are.same(texts(rz), texts(core.contiguous(z)))
          near(core.contiguous(gx), rgx, 1e-6, 1e-6)
        end
      end)
    end
  end

  it("creates its primitives once per shape", function()
    local x = distinct({6, 6, 2, 2})
    local function step()
      local y, ws = core.pool2d("max", x, {window = {2, 2}})
      core.pool2d_backward("max", y, x:size(), ws, {window = {2, 2}})
    end
    step()
    local before = core.stats().primitives_created
    step()
    assert.are.equal(before, core.stats().primitives_created)
  end)
end)

describe("dense", function()
  local function naive_dense(x, w, b)
    local xs, ws = x:size(), w:size()
    local xv, wv, bv = flat(x), flat(w), b and flat(b)
    local n = xs[2] or 1
    local yv = {}
    for j = 0, n - 1 do
      for o = 0, ws[1] - 1 do
        local acc = bv and bv[o + 1] or 0
        for i = 0, ws[2] - 1 do acc = acc + wv[1 + o + ws[1] * i] * xv[1 + i + xs[1] * j] end
        yv[1 + o + ws[1] * j] = acc
      end
    end
    return core.tensor(yv):reshape(#xs == 1 and {ws[1]} or {ws[1], n})
  end

  it("matches w * x .+ b", function()
    local x, w, b = data({7, 3}, 1), data({5, 7}, 2), data({5}, 3)
    near(core.dense(x, w, b), naive_dense(x, w, b), 1e-5, 1e-5)
    near(core.dense(x, w), naive_dense(x, w), 1e-5, 1e-5)
    local v = data({7}, 4)
    near(core.dense(v, w, b), naive_dense(v, w, b), 1e-5, 1e-5)
  end)

  it("backward agrees with finite differences", function()
    local x, w, b = data({7, 3}, 5), data({5, 7}, 6), data({5}, 7)
    local r = data({5, 3}, 8)
    local function loss() return dot(core.dense(x, w, b), r) end
    local gw, gb = core.dense_backward_weights(r, x, true)
    fdcheck("gx", x, core.dense_backward_data(r, w), loss)
    fdcheck("gw", w, gw, loss)
    fdcheck("gb", b, gb, loss)
    local _, none = core.dense_backward_weights(r, x, false)
    assert.is_nil(none)
  end)

  it("names both shapes when features differ", function()
    assert.has_error(function() core.dense(core.ones(320, 128), core.ones(10, 288)) end,
      "dense: input has 320 features (320×128), weight expects 288 (10×288)")
    assert.has_error(function() core.dense(core.ones(288, 128), core.ones(10, 288), core.ones(9)) end,
      "dense: bias is 9, weight has 10 outputs (10×288)")
    assert.has_error(function() core.dense_backward_data(core.ones(9, 4), core.ones(10, 288)) end,
      "dense_backward_data: gradient has 9 features (9×4), weight has 10 outputs (10×288)")
    assert.has_error(function() core.dense_backward_weights(core.ones(10, 4), core.ones(288, 3)) end,
      "dense_backward_weights: gradient 10×4 and input 288×3 must be matrices with the same batch size")
  end)

  it("runs without reorders and reuses its primitives", function()
    local x, w, b = data({6, 4}, 1), data({3, 6}, 2), data({3}, 3)
    local function step()
      local y = core.dense(x, w, b)
      core.dense_backward_data(y, w)
      core.dense_backward_weights(y, x, true)
    end
    step()
    local created, reorders = core.stats().primitives_created, core.stats().reorders
    step()
    assert.are.equal(created, core.stats().primitives_created)
    assert.are.equal(reorders, core.stats().reorders)
  end)
end)

describe("softmax", function()
  local function naive_softmax(x, log)
    local s, v = x:size(), flat(x)
    local rows, out = s[1], {}
    for j = 0, #v // rows - 1 do
      local m = -math.huge
      for i = 1, rows do m = math.max(m, v[j * rows + i]) end
      local z = 0
      for i = 1, rows do z = z + math.exp(v[j * rows + i] - m) end
      for i = 1, rows do
        local a = v[j * rows + i] - m
        out[j * rows + i] = log and a - math.log(z) or math.exp(a) / z
      end
    end
    return core.tensor(out):reshape(s)
  end

  for _, log in ipairs{false, true} do
    local name = log and "logsoftmax" or "softmax"
    it(name .. " works over the first dimension", function()
      local x = data({4, 3}, 1)
      near(core.softmax(x, log), naive_softmax(x, log), 1e-5, 1e-6)
      local x3 = data({3, 2, 2}, 2)
      near(core.softmax(x3, log), naive_softmax(x3, log), 1e-5, 1e-6)
    end)

    it(name .. " backward agrees with finite differences", function()
      local x, r = data({4, 3}, 3), data({4, 3}, 4)
      local y = core.softmax(x, log)
      local gx = core.softmax_backward(r, y, log)
      fdcheck("gx", x, gx, function() return dot(core.softmax(x, log), r) end)
    end)
  end

  it("gives exact values on a known vector", function()
    local y = core.softmax(core.tensor{0, 0, math.log(2)})
    near(y, core.tensor{0.25, 0.25, 0.5}, 1e-6, 1e-7)
  end)

  it("checks the gradient's sizes", function()
    assert.has_error(function() core.softmax_backward(core.ones(3, 2), core.ones(4, 2)) end,
      "softmax_backward: gradient is 3×2, output is 4×2")
  end)
end)

describe("eltwise", function()
  it("applies relu, leaky relu and linear", function()
    local x = core.tensor{-2, -0.5, 0.5, 3}
    near(core.eltwise("relu", x), core.tensor{0, 0, 0.5, 3}, 0, 0)
    near(core.eltwise("relu", x, 0.01), core.tensor{-0.02, -0.005, 0.5, 3}, 1e-6, 0)
    near(core.eltwise("linear", x, 2, 1), core.tensor{-3, 0, 2, 7}, 0, 0)
  end)

  for _, kind in ipairs{"relu", "elu", "sigmoid", "tanh", "gelu", "softplus", "exp", "square", "abs", "swish",
                        "mish"} do
    it(kind .. " backward agrees with finite differences", function()
      local x, r = data({3, 4}, 21), data({3, 4}, 22)
      local alpha = (kind == "elu" or kind == "swish") and 1 or 0
      local y = core.eltwise(kind, x, alpha, 0)
      local d = core.eltwise_uses_dst(kind) and y or x
      local gx = core.eltwise_backward(kind, r, d, alpha, 0)
      fdcheck("gx", x, gx, function() return dot(core.eltwise(kind, x, alpha, 0), r) end)
    end)
  end

  it("says which backwards take the output", function()
    assert.is_true(core.eltwise_uses_dst("relu"))
    assert.is_true(core.eltwise_uses_dst("sigmoid"))
    assert.is_false(core.eltwise_uses_dst("gelu"))
    assert.is_false(core.eltwise_uses_dst("swish"))
    assert.has_error(function() core.eltwise_uses_dst("hardswish") end)
  end)
end)

describe("batchnorm", function()
  local function naive_batchnorm(x, gamma, beta, eps)
    local s, v = x:size(), flat(x)
    local g, b = flat(gamma), flat(beta)
    local c = #s == 2 and s[1] or s[#s - 1]
    local inner = #s == 2 and 1 or numel(s) // (c * s[#s])
    local function channel(i) return ((i - 1) // inner) % c + 1 end
    local mean, var, count = {}, {}, numel(s) // c
    for k = 1, c do mean[k], var[k] = 0, 0 end
    for i = 1, #v do mean[channel(i)] = mean[channel(i)] + v[i] / count end
    for i = 1, #v do var[channel(i)] = var[channel(i)] + (v[i] - mean[channel(i)]) ^ 2 / count end
    local out = {}
    for i = 1, #v do
      local k = channel(i)
      out[i] = g[k] * (v[i] - mean[k]) / math.sqrt(var[k] + eps) + b[k]
    end
    return core.tensor(out):reshape(s), mean, var, count
  end

  for _, sizes in ipairs{{3, 2, 2, 4}, {3, 5}} do
    local shape = table.concat(sizes, "×")
    it("normalises a " .. shape .. " batch and updates the running statistics as Flux", function()
      local x = data(sizes, 31)
      local c = #sizes == 2 and sizes[1] or sizes[3]
      local gamma, beta = data({c}, 32), data({c}, 33)
      local rm, rv = core.zeros(c), core.ones(c)
      local y, mean, var = core.batchnorm(x, gamma, beta, rm, rv, true, 0.1, 1e-5)
      local want, m, v, count = naive_batchnorm(x, gamma, beta, 1e-5)
      near(y, want, 1e-4, 1e-5)
      near(mean, core.tensor(m), 1e-5, 1e-6)
      near(var, core.tensor(v), 1e-5, 1e-6)
      local wm, wv = {}, {}
      for k = 1, c do
        wm[k] = 0.1 * m[k]
        wv[k] = 0.9 + 0.1 * v[k] * count / (count - 1)
      end
      near(rm, core.tensor(wm), 1e-5, 1e-6)
      near(rv, core.tensor(wv), 1e-5, 1e-6)
    end)

    it("backward of a " .. shape .. " batch agrees with finite differences", function()
      local x = data(sizes, 34)
      local c = #sizes == 2 and sizes[1] or sizes[3]
      local gamma, beta = data({c}, 35), data({c}, 36)
      local rm, rv = core.zeros(c), core.ones(c)
      local r = data(sizes, 37)
      local _, mean, var = core.batchnorm(x, gamma, beta, rm, rv, true, 0.1, 1e-5)
      local gx, gg, gb = core.batchnorm_backward(r, x, gamma, mean, var, 1e-5)
      local function loss() return dot((core.batchnorm(x, gamma, beta, rm, rv, true, 0.1, 1e-5)), r) end
      fdcheck("gx", x, gx, loss, {eps = 1e-2, rtol = 2e-2, atol = 2e-3})
      fdcheck("ggamma", gamma, gg, loss)
      fdcheck("gbeta", beta, gb, loss)
    end)
  end

  it("uses the running statistics in test mode", function()
    local x = data({2, 2, 2, 3}, 41)
    local gamma, beta = core.tensor{2, 1}, core.tensor{0, 1}
    local rm, rv = core.tensor{0.5, -1}, core.tensor{4, 0.25}
    local y, saved = core.batchnorm(x, gamma, beta, rm, rv, false, 0.1, 1e-5)
    assert.is_nil(saved)
    local xv, yv = flat(x), flat(y)
    for i = 1, #xv do
      local k = ((i - 1) // 4) % 2 + 1
      local want = ({2, 1})[k] * (xv[i] - ({0.5, -1})[k]) / math.sqrt(({4, 0.25})[k] + 1e-5) + ({0, 1})[k]
      assert.is_true(math.abs(yv[i] - want) < 1e-5, ("element %d: %g, expected %g"):format(i, yv[i], want))
    end
    near(rm, core.tensor{0.5, -1}, 0, 0)
  end)

  it("checks the channel count", function()
    assert.has_error(function()
      core.batchnorm(core.ones(2, 2, 3, 2), core.ones(2), core.ones(3), core.zeros(3), core.ones(3), true)
    end, "batchnorm: gamma is 2, input 2×2×3×2 has 3 channels")
    assert.has_error(function()
      core.batchnorm(core.ones(3), core.ones(3), core.ones(3), core.zeros(3), core.ones(3), true)
    end, "batchnorm: input must have 2 to 5 dimensions (features×N or W×H×C×N), got 3")
  end)
end)
