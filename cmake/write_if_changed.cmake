# write_if_changed(FILE CONTENT): writes CONTENT to FILE only when it differs from what FILE
# holds, so a generated source that did not change triggers no recompiles. Used by the
# build-time embedding scripts (embed_assets.cmake, embed_scripts.cmake).
function(write_if_changed file content)
  if(EXISTS ${file})
    file(READ ${file} old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE ${file} "${content}")
endfunction()
