# skap_target_defaults(<target>): the warning, hardening and sanitizer flags
# every SKAP target is built with. Target-scoped on purpose: third-party code
# found through find_package is not affected.
include(CheckPIESupported)
check_pie_supported()

function(skap_target_defaults target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Wold-style-cast> -Wcast-align -Wformat=2
    -fstack-protector-strong -fstack-clash-protection -fcf-protection)
  if(SKAP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    # GCC 12 at -O3 reports impossible overlaps inside std::string's own
    # operator+ (GCC bug 105329); keep the warning, not as an error.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      target_compile_options(${target} PRIVATE -Wno-error=restrict)
    endif()
  endif()
  # _FORTIFY_SOURCE needs optimisation and conflicts with ASan's interceptors.
  if(NOT SKAP_SANITIZE)
    target_compile_definitions(${target} PRIVATE _FORTIFY_SOURCE=2)
  endif()
  target_link_options(${target} PRIVATE -Wl,-z,relro,-z,now -Wl,-z,noexecstack)
  if(SKAP_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${SKAP_SANITIZE} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${SKAP_SANITIZE})
  endif()
endfunction()
