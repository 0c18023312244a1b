--- The sliding-window geometry of the Conv and pooling layers in Lua:
-- output sizes and whether a window fits, from the layers' fields, for
-- a Chain that checks a pair of layers before running them as one op.
-- @module cnn.layers.geometry

local tensorcheck = require "cnn.tensorcheck"

local geometry = {}

--- The extent of a Conv's dilated kernel along dimension d (1 or 2).
function geometry.extent(conv, d)
  return (conv.kernel[d] - 1) * conv.dilation[d] + 1
end

--- The output sizes W×H×Cout×N of a Conv for an input of `sizes`
-- that its check accepts.
function geometry.conv_sizes(conv, sizes)
  local out = {0, 0, conv.cout, sizes[4]}
  for d = 1, 2 do
    local padded = sizes[d] + conv.pad[2 * d - 1] + conv.pad[2 * d]
    out[d] = (padded - geometry.extent(conv, d)) // conv.stride[d] + 1
  end
  return out
end

--- The message of a pooling layer for a W×H×C×N input of `sizes` its
-- window does not fit, or nil when it fits.
function geometry.pool_misfit(pool, sizes)
  local w = sizes[1] + pool.pad[1] + pool.pad[2]
  local h = sizes[2] + pool.pad[3] + pool.pad[4]
  if w < pool.window[1] or h < pool.window[2] then
    return ("input (%s) with padding is smaller than the window (%d, %d)")
      :format(tensorcheck.sizes_text(sizes), pool.window[1], pool.window[2])
  end
  return nil
end

return geometry
