# INTERFACE targets carrying compile settings; linked privately so they never leak to users.
add_library(cosmos_warnings INTERFACE)
target_compile_options(cosmos_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(COSMOS_WERROR)
  target_compile_options(cosmos_warnings INTERFACE -Werror)
endif()

add_library(cosmos_settings INTERFACE)
target_compile_features(cosmos_settings INTERFACE cxx_std_20)
if(COSMOS_SANITIZE)
  target_compile_options(cosmos_settings INTERFACE -fsanitize=${COSMOS_SANITIZE} -fno-omit-frame-pointer)
  target_link_options(cosmos_settings INTERFACE -fsanitize=${COSMOS_SANITIZE})
endif()
