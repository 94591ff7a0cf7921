# Run by `cmake --install` (install(SCRIPT) in CMakeLists.txt), so the paths
# written into the unit and the production config follow the prefix given at
# install time (`--prefix`, `make install PREFIX=...`). DESTDIR is honoured by
# file(INSTALL). PC_SOURCE_DIR and PC_BINARY_DIR are set by CMakeLists.txt.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(PC_CONFDIR "/etc/portcullis")
else()
  set(PC_CONFDIR "${prefix}/etc/portcullis")
endif()
set(PC_BINDIR "${prefix}/bin")
set(PC_WWWDIR "${prefix}/share/portcullis/www")
set(PC_DOCDIR "${prefix}/share/doc/portcullis")

set(out "${PC_BINARY_DIR}/deploy")
configure_file("${PC_SOURCE_DIR}/deploy/portcullis.service.in" "${out}/portcullis.service" @ONLY)
configure_file("${PC_SOURCE_DIR}/deploy/config.json.in" "${out}/config.json" @ONLY)
file(INSTALL "${out}/portcullis.service" DESTINATION "${prefix}/lib/systemd/system")
file(INSTALL "${PC_SOURCE_DIR}/deploy/portcullis.sysusers" DESTINATION "${prefix}/lib/sysusers.d"
     RENAME portcullis.conf)
# An operator's config is never overwritten by a reinstall.
if(EXISTS "$ENV{DESTDIR}${PC_CONFDIR}/config.json")
  message(STATUS "Keeping: $ENV{DESTDIR}${PC_CONFDIR}/config.json")
else()
  file(INSTALL "${out}/config.json" DESTINATION "${PC_CONFDIR}"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
endif()
