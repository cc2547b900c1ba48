-- Marks a backend's data: defined once per request by the sources, called from post.
function tag(response, who)
  local data = response:data()
  data:set("tagged_by", who)
end
