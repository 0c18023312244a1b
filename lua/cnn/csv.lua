--- Numeric tables from CSV files: a header row of column names, then one
-- observation per row, every cell a number.
-- @module cnn.csv

local core = require "cnn.core"
local errors = require "cnn.errors"
local argcheck = require "cnn.argcheck"

--- The fields of one line: split at commas, trimmed, a surrounding pair
-- of double quotes removed.
local function fields_of(line)
  local out = {}
  for cell in (line .. ","):gmatch("([^,]*),") do
    cell = cell:match("^%s*(.-)%s*$")
    out[#out + 1] = cell:match('^"(.*)"$') or cell
  end
  return out
end

local function column_list(names)
  local parts = {}
  for i, n in ipairs(names) do parts[i] = ("%q"):format(n) end
  return table.concat(parts, ", ")
end

--- A CSV file of numbers as a features×N Float32 matrix (one column per
-- row of the file, the file's columns in order) and, with `label`, that
-- column apart: an Int32 vector when every label is a whole number, else
-- Float32. A row with another number of fields than the header, or a
-- cell that is not a number, is an error naming the file and the line.
-- @function datasets.CSV
-- @tparam string path the file
-- @tparam[opt] table opts label (the name of the label column)
-- @treturn Tensor features×N Float32
-- @treturn Tensor|nil the labels (a vector of N), with `label`
-- @treturn table the names of the feature columns
-- @usage local path = os.tmpname()
-- io.open(path, "w"):write("length,width,species\n5.1,3.5,0\n7.0,3.2,1\n"):close()
-- local x, y = cnn.datasets.CSV(path, {label = "species"}) --> x 2×2, y {0, 1}
local function CSV(path, opts)
  local fname = "CSV"
  argcheck.string(fname, "path", path)
  opts = argcheck.options(fname, opts, {label = true})
  if opts.label ~= nil then argcheck.string(fname, "label", opts.label) end
  local f, why = io.open(path, "rb")
  if not f then errors.raise(("%s: cannot open %s"):format(fname, why)) end
  local header, label_at, names
  local values, labels, integral = {}, {}, true
  local lineno, rows = 0, 0
  for line in f:lines() do
    lineno = lineno + 1
    line = line:gsub("\r$", "")
    if header == nil then
      header = fields_of(line)
      names = {}
      for i, name in ipairs(header) do
        if name == opts.label then label_at = i else names[#names + 1] = name end
      end
      if opts.label ~= nil and label_at == nil then
        f:close()
        errors.raise(("%s: %s has no column %q (columns: %s)"):format(fname, path, opts.label,
          column_list(header)))
      end
    elseif line:match("%S") then
      local cells = fields_of(line)
      if #cells ~= #header then
        f:close()
        errors.raise(("%s: %s line %d has %d field%s, the header has %d"):format(fname, path, lineno,
          #cells, #cells == 1 and "" or "s", #header))
      end
      rows = rows + 1
      for i, cell in ipairs(cells) do
        local v = tonumber(cell)
        if v == nil then
          f:close()
          errors.raise(("%s: %s line %d, column %q: %q is not a number"):format(fname, path, lineno,
            header[i], cell))
        end
        if i == label_at then
          labels[rows] = v
          integral = integral and v == math.floor(v) and math.abs(v) < 2^31
        else
          values[#values + 1] = v
        end
      end
    end
  end
  f:close()
  if header == nil then errors.raise(("%s: %s is empty (expected a header row)"):format(fname, path)) end
  if rows == 0 then errors.raise(("%s: %s has a header but no rows"):format(fname, path)) end
  if #names == 0 then errors.raise(("%s: %s has no feature columns besides the label"):format(fname, path)) end
  local x = core.tensor(values):reshape(#names, rows)
  local y
  if label_at then y = core.tensor(labels, integral and "int32" or nil) end
  return x, y, names
end

return CSV
